"""Numeric settings from the environment: a deployer's typo stops the start-up with a message
naming the variable, never a bare ValueError (core/config.py)."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from core.config import ConfigError, load_config

NUMBERS = [
    ("COMMONS_MAX_UPLOAD_BYTES", "MAX_CONTENT_LENGTH", "1048576", 1048576),
    ("COMMONS_SESSION_SECONDS", "PERMANENT_SESSION_LIFETIME", "3600", 3600),
    ("COMMONS_LOGIN_MAX_FAILURES", "LOGIN_MAX_FAILURES", " 7 ", 7),
    ("COMMONS_LOGIN_MAX_FAILURES_PER_ADDRESS", "LOGIN_MAX_FAILURES_PER_ADDRESS", "20", 20),
    ("COMMONS_LOGIN_WINDOW_SECONDS", "LOGIN_FAILURE_WINDOW_SECONDS", "60", 60),
    ("COMMONS_PUBLIC_PAGE_CACHE_SECONDS", "PUBLIC_PAGE_CACHE_SECONDS", "2.5", 2.5),
    ("COMMONS_PROXY_COUNT", "PROXY_COUNT", "1", 1),
]


def config(tmp_path):
    return load_config(
        str(tmp_path), {"SECRET_KEY": "x", "FIELD_KEY": Fernet.generate_key().decode()}
    )


@pytest.mark.parametrize("env,key,raw,value", NUMBERS, ids=[n[0] for n in NUMBERS])
def test_a_number_is_read(monkeypatch, tmp_path, env, key, raw, value):
    monkeypatch.setenv(env, raw)
    got = config(tmp_path)[key]
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("env", [n[0] for n in NUMBERS])
@pytest.mark.parametrize("raw", ["thirty", "", "-1", "1e999", "nan", "３０x"])
def test_a_bad_number_stops_the_start_up_naming_the_variable(monkeypatch, tmp_path, env, raw):
    monkeypatch.setenv(env, raw)
    with pytest.raises(ConfigError) as e:
        config(tmp_path)
    assert env in str(e.value) and repr(raw) in str(e.value)


def test_whole_numbers_are_whole(monkeypatch, tmp_path):
    monkeypatch.setenv("COMMONS_LOGIN_MAX_FAILURES", "2.5")
    with pytest.raises(ConfigError, match="a whole number"):
        config(tmp_path)


def test_defaults_when_unset(monkeypatch, tmp_path):
    for env, *_ in NUMBERS:
        monkeypatch.delenv(env, raising=False)
    cfg = config(tmp_path)
    assert cfg["PUBLIC_PAGE_CACHE_SECONDS"] == 30 and cfg["PROXY_COUNT"] == 0
    assert cfg["MAX_CONTENT_LENGTH"] == 16 * 1024 * 1024


@pytest.mark.parametrize("count,seen", [(None, "127.0.0.1"), ("1", "203.0.113.9")])
def test_the_proxy_count_decides_whose_address_is_believed(monkeypatch, tmp_path, count, seen):
    from flask import request

    from tests.conftest import make_app

    if count is None:
        monkeypatch.delenv("COMMONS_PROXY_COUNT", raising=False)
    else:
        monkeypatch.setenv("COMMONS_PROXY_COUNT", count)
    app = make_app(f"sqlite:///{tmp_path / 'x.sqlite3'}", str(tmp_path))
    app.add_url_rule("/_address", "address", lambda: request.remote_addr or "")
    got = app.test_client().get(
        "/_address",
        headers={"X-Forwarded-For": "203.0.113.9"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert got.get_data(as_text=True) == seen
