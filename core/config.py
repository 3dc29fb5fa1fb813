"""Settings, read from the environment (12-factor), with safe development defaults.

Production is declared by ``COMMONS_ENV=production``: then ``SECRET_KEY`` and
``COMMONS_FIELD_KEY`` must come from the environment and cookies are Secure.
In development both keys are generated once into the instance folder.
"""

from __future__ import annotations

import math
import os
import re
import secrets
from pathlib import Path

from cryptography.fernet import Fernet


class ConfigError(RuntimeError):
    """A deployer's mistake that must stop the start-up, with a message saying what to set."""


# A host name (or an IP literal), an optional port and optional path segments: the part of a
# checkpoint origin that names this deployment (C2SP tlog-checkpoint: a schema-less URL).
_PUBLIC_HOST = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
    r"|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?(?:/[a-z0-9._~-]+)*"
)


def public_host(value: str) -> str:
    """``COMMONS_PUBLIC_HOST`` checked and normalised: ``ledger.example.org`` (no scheme, no
    trailing slash, lower case). It names this deployment in every checkpoint's origin
    (``<public host>/commons-ledger/<book id>``), which is signed and cannot change later."""
    host = value.strip().lower().rstrip("/")
    if "://" in host or not _PUBLIC_HOST.fullmatch(host) or len(host) > 200:
        raise ConfigError(
            f"COMMONS_PUBLIC_HOST {value!r} is not a host name such as ledger.example.org "
            "(no scheme, e.g. no https://)"
        )
    return host


def _number(name: str, default: int | float, kind: type = int) -> int | float:
    """A count or a duration from the environment: a whole number (``kind=int``) or a number
    of seconds (``kind=float``), not negative; anything else stops the start-up saying so."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = kind(raw.strip())
    except ValueError:
        value = None
    if value is None or value < 0 or not math.isfinite(value):  # also NaN
        what = "a whole number" if kind is int else "a number of seconds"
        raise ConfigError(f"{name} must be {what}, 0 or more (it is {raw!r})")
    return value


def _instance_secret(instance: Path, name: str, make) -> str:
    """Read a secret kept in the instance folder, creating it on first use (development only)."""
    path = instance / name
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value)
    return value


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    env = os.environ
    overrides = dict(overrides or {})
    instance = Path(instance_path)
    production = (overrides.get("ENV") or env.get("COMMONS_ENV", "development")) == "production"

    cfg: dict = {
        "ENV": "production" if production else "development",
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL")
        or f"sqlite:///{instance / 'commons.sqlite3'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # An optional PostgreSQL streaming replica: the public pages read from it while it has
        # replayed everything the primary had written when the request began (core/db.py).
        "REPLICA_URL": env.get("COMMONS_REPLICA_URL") or None,
        "BABEL_DEFAULT_LOCALE": env.get("COMMONS_DEFAULT_LOCALE", "zh_Hans_CN"),
        "BABEL_DEFAULT_TIMEZONE": env.get("COMMONS_TIMEZONE", "Asia/Shanghai"),
        "BABEL_TRANSLATION_DIRECTORIES": str(
            Path(__file__).resolve().parent.parent / "translations"
        ),
        # Request bodies: vouchers with scanned attachments are the largest legitimate ones.
        "MAX_CONTENT_LENGTH": _number("COMMONS_MAX_UPLOAD_BYTES", 16 * 1024 * 1024),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": _number("COMMONS_SESSION_SECONDS", 8 * 3600),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "LOGIN_MAX_FAILURES": _number("COMMONS_LOGIN_MAX_FAILURES", 5),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": _number("COMMONS_LOGIN_MAX_FAILURES_PER_ADDRESS", 50),
        "LOGIN_FAILURE_WINDOW_SECONDS": _number("COMMONS_LOGIN_WINDOW_SECONDS", 15 * 60),
        # Proxies in front that set X-Forwarded-* (werkzeug's ProxyFix trusts this many; 0: none).
        "PROXY_COUNT": _number("COMMONS_PROXY_COUNT", 0),
        "KEYS_DIR": env.get("COMMONS_KEYS_DIR") or str(instance / "keys"),
        # The public host of this deployment, in every checkpoint origin (FORMAT.md §2).
        # Rendered report PDFs are kept here (a cache; default: <instance>/cache/report-pdf).
        "REPORT_PDF_CACHE": env.get("COMMONS_PDF_CACHE"),
        # Anonymous public pages are kept this long in each process (core/pagecache.py; 0: off).
        "PUBLIC_PAGE_CACHE_SECONDS": _number("COMMONS_PUBLIC_PAGE_CACHE_SECONDS", 30, float),
        "PUBLIC_HOST": env.get("COMMONS_PUBLIC_HOST")
        or overrides.get("SERVER_NAME")
        or env.get("SERVER_NAME")
        or "localhost",
        "API_TITLE": "Commons Ledger API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "TESTING": False,
    }
    cfg.update(overrides)
    cfg["PUBLIC_HOST"] = public_host(str(cfg["PUBLIC_HOST"]))
    replica = cfg.get("REPLICA_URL")
    if replica and not (
        str(replica).startswith("postgresql")
        and str(cfg["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql")
    ):
        raise ConfigError(
            "COMMONS_REPLICA_URL must be a PostgreSQL URL (a streaming replica of DATABASE_URL, "
            "which must be PostgreSQL too), e.g. postgresql+psycopg://reader@replica/commons"
        )

    if "SECRET_KEY" not in cfg:
        if env.get("SECRET_KEY"):
            cfg["SECRET_KEY"] = env["SECRET_KEY"]
        elif production:
            raise ConfigError(
                "SECRET_KEY must be set in the environment when COMMONS_ENV=production"
            )
        else:
            cfg["SECRET_KEY"] = _instance_secret(
                instance, "secret_key", lambda: secrets.token_hex(32)
            )
    if "FIELD_KEY" not in cfg:
        if env.get("COMMONS_FIELD_KEY"):
            cfg["FIELD_KEY"] = env["COMMONS_FIELD_KEY"]
        elif production:
            raise ConfigError(
                "COMMONS_FIELD_KEY (a Fernet key: encrypts residents' phone and ID numbers) "
                "must be set in the environment when COMMONS_ENV=production"
            )
        else:
            cfg["FIELD_KEY"] = _instance_secret(
                instance, "field_key", lambda: Fernet.generate_key().decode()
            )
    return cfg
