# SPDX-License-Identifier: AGPL-3.0-or-later
"""The public pages' short-lived cache (core/pagecache.py): what is kept, for whom, how long."""

from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa

from core import pagecache
from core.auth import create_user
from core.db import db
from core.models import Community
from tests.conftest import PASSWORD, login, make_app, own_database


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cached_app(tmp_path):
    """An app of its own (real commits) with the cache on for 5 s and a clock the test moves."""
    with own_database(tmp_path / "cache.sqlite3") as url:
        app = make_app(url, str(tmp_path / "instance"), PUBLIC_PAGE_CACHE_SECONDS=5)
        with app.app_context():
            flask_migrate.upgrade()
            db.session.add(Community(name="甲社区", slug="jia"))
            create_user("reader", PASSWORD)
            db.session.commit()
            cache = pagecache.page_cache(app)
            assert cache is not None
            cache.clock = Clock()
            cache.jitter = 0  # expiry exactly at 5 s (the jitter has its own test)
            yield app
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
            made = app.extensions.get("commons_page_marker")
            if made is not None:
                made[1].dispose()


def _statements(app):
    """The statements sent from now on: on the application's engine and, on a server database,
    on the publication marker's own engine (``pagecache.marker_engine``)."""
    seen: list[str] = []
    engines = [db.engine]
    if db.engine.dialect.name != "sqlite":
        engines.append(pagecache.marker_engine(app))
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_second_anonymous_visit_is_the_same_bytes_and_only_asks_what_was_published(cached_app):
    client = cached_app.test_client()
    first = client.get("/public/")
    assert first.status_code == 200 and "X-Cache" not in first.headers
    seen = _statements(cached_app)
    second = client.get("/public/")
    assert second.headers["X-Cache"] == "hit"
    assert second.get_data() == first.get_data()
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    # One query: the publication marker (tests below); nothing of the page itself. On SQLite
    # in a deferred transaction (BEGIN IMMEDIATE would take the write lock for a read); on
    # PostgreSQL outside any transaction (autocommit: no BEGIN … ROLLBACK round trips).
    queries = [s for s in seen if not s.startswith("BEGIN")]
    assert len(queries) == 1 and "disclosure_reports" in queries[0], queries
    assert "checkpoints" in queries[0] and "BEGIN IMMEDIATE" not in seen
    if db.engine.dialect.name != "sqlite":
        with pagecache.marker_engine(cached_app).connect() as conn:
            assert conn.connection.dbapi_connection.autocommit is True  # psycopg sends no BEGIN
    # A browser that kept the page is answered 304 from the cache too.
    again = client.get("/public/", headers={"If-None-Match": second.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


def test_the_marker_unreadable_means_no_cache_for_that_request(cached_app, monkeypatch):
    """When the publication marker cannot be read (the database went away), the page is
    rendered as if the cache were off: never served from the cache unchecked."""
    client = cached_app.test_client()
    client.get("/public/")
    assert client.get("/public/").headers["X-Cache"] == "hit"

    def broken(conn):
        raise sa.exc.OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(pagecache, "FRESHNESS", [broken])
    page = client.get("/public/")
    assert page.status_code == 200 and "X-Cache" not in page.headers


def test_each_language_is_kept_apart(cached_app):
    client = cached_app.test_client()
    zh = client.get("/public/", headers={"Accept-Language": "zh-CN"})
    en = client.get("/public/", headers={"Accept-Language": "en"})
    assert "X-Cache" not in en.headers  # not the Chinese page
    assert zh.get_data() != en.get_data()
    assert 'lang="en"' in en.get_data(as_text=True)
    assert client.get("/public/", headers={"Accept-Language": "en"}).headers["X-Cache"] == "hit"
    assert 'lang="en"' in (
        client.get("/public/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    )


def test_a_change_made_elsewhere_shows_after_the_cache_time(cached_app):
    client = cached_app.test_client()
    assert "乙社区" not in client.get("/public/").get_data(as_text=True)
    # Another process (a CLI, another worker) adds a community: this process's page may be
    # up to PUBLIC_PAGE_CACHE_SECONDS old, never older.
    db.session.add(Community(name="乙社区", slug="yi"))
    db.session.commit()
    clock = pagecache.page_cache(cached_app).clock
    clock.now += 4.9
    assert "乙社区" not in client.get("/public/").get_data(as_text=True)
    clock.now += 0.2
    fresh = client.get("/public/")
    assert "X-Cache" not in fresh.headers
    assert "乙社区" in fresh.get_data(as_text=True)


def test_a_new_publication_shows_at_once_in_every_process(cached_app, monkeypatch):
    """The publication marker (transparency registers the newest report and checkpoint) is read
    on the primary before each cached answer: when it moved, the page is rendered again."""
    published = [0]
    monkeypatch.setattr(pagecache, "FRESHNESS", [lambda conn: published[0]])
    client = cached_app.test_client()
    client.get("/public/")
    assert client.get("/public/").headers["X-Cache"] == "hit"
    db.session.add(Community(name="戊社区", slug="wu"))
    db.session.commit()
    published[0] += 1  # e.g. a report published by another process
    fresh = client.get("/public/")
    assert "X-Cache" not in fresh.headers and "戊社区" in fresh.get_data(as_text=True)
    assert client.get("/public/").headers["X-Cache"] == "hit"


def test_signed_in_visitors_neither_read_nor_fill_it(cached_app):
    anonymous = cached_app.test_client()
    anonymous.get("/public/")
    db.session.add(Community(name="丙社区", slug="bing"))
    db.session.commit()
    reader = login(cached_app.test_client(), "reader")  # a write here: clears the cache
    assert pagecache.page_cache(cached_app).hits == 0
    anonymous.get("/public/")  # refilled, with 丙社区
    db.session.add(Community(name="丁社区", slug="ding"))
    db.session.commit()
    page = reader.get("/public/")
    assert "X-Cache" not in page.headers
    assert "丁社区" in page.get_data(as_text=True)  # the signed-in reader sees it at once
    assert page.headers["Cache-Control"] == "no-store"
    # ... and what the reader was shown did not go into the cache for anonymous visitors.
    shown = anonymous.get("/public/")
    assert shown.headers["X-Cache"] == "hit"
    assert "丙社区" in shown.get_data(as_text=True)
    assert "丁社区" not in shown.get_data(as_text=True)


def test_a_write_in_this_process_clears_it(cached_app):
    client = cached_app.test_client()
    client.get("/public/")
    assert len(pagecache.page_cache(cached_app)) == 1
    login(cached_app.test_client(), "reader")  # POST /login, committed
    assert len(pagecache.page_cache(cached_app)) == 0
    assert "X-Cache" not in client.get("/public/").headers


def test_refusals_and_other_pages_are_not_kept(cached_app):
    client = cached_app.test_client()
    for _ in range(2):
        missing = client.get("/public/c/none")
        assert missing.status_code == 404 and "X-Cache" not in missing.headers
        login_page = client.get("/login")  # not a public blueprint, and it sets a cookie
        assert "X-Cache" not in login_page.headers
    assert len(pagecache.page_cache(cached_app)) == 0


def test_bounded_least_recently_used_first(monkeypatch):
    monkeypatch.setattr(pagecache, "MAX_ENTRIES", 3)
    monkeypatch.setattr(pagecache, "MAX_BYTES", 800)
    cache = pagecache.PageCache(5, clock=Clock())

    def entry(size: int) -> pagecache.Entry:
        return pagecache.Entry(cache.clock(), (), b"x" * size, (), "text/html")

    for k in "abc":
        cache.put((k,), entry(10))
    cache.get(("a",))  # used: d pushes b out, not a
    cache.put(("d",), entry(10))
    assert [k for k in "abcd" if cache.get((k,))] == ["a", "c", "d"]
    cache.put(("big",), entry(101))  # over MAX_BYTES / 8: never kept
    assert cache.get(("big",)) is None
    cache.put(("e",), entry(100))
    cache.put(("f",), entry(100))
    assert len(cache) == 3 and cache.get(("a",)) is None


def test_an_expired_page_is_rendered_again_by_one_caller_while_the_others_get_the_old_one():
    clock = Clock()
    cache = pagecache.PageCache(5, clock=clock, jitter=0)
    cache.put(("p",), pagecache.Entry(clock(), ("m",), b"old", (), "text/html"))
    clock.now += 5
    assert cache.get(("p",), ("m",)) is None  # the first caller renders it again ...
    stale = cache.get(("p",), ("m",))  # ... meanwhile the others get the old page
    assert stale is not None and stale.body == b"old"
    assert cache.get(("p",), ("m2",)) is None  # never once something new is published
    cache.put(("p",), pagecache.Entry(clock(), ("m",), b"new", (), "text/html"))
    assert cache.get(("p",), ("m",)).body == b"new"
    # A renderer that never came back (its request failed): another caller tries after 5 s;
    # an old page is never used past twice the cache time.
    clock.now += 5
    assert cache.get(("p",), ("m",)) is None
    assert cache.get(("p",), ("m",)).body == b"new"
    clock.now += 5
    assert cache.get(("p",), ("m",)) is None
    clock.now += 0.1
    assert cache.get(("p",), ("m",)) is None  # 10.1 s old: gone


def test_pages_kept_together_expire_at_different_times():
    clock = Clock()
    cache = pagecache.PageCache(30, clock=clock)
    for k in range(50):
        cache.put((k,), pagecache.Entry(clock(), (), b"x", (), "text/html"))
    clock.now += 30 * 0.75
    assert all(cache.get((k,)) is not None for k in range(50))  # none before 3/4 of the time
    clock.now += 30 * 0.125
    expired = [k for k in range(50) if cache.get((k,)) is None]
    assert 5 < len(expired) < 45  # about half, not all at once
    clock.now += 30 * 0.125
    assert [k for k in range(50) if cache.get((k,)) is None] == sorted(
        set(range(50)) - set(expired)
    )  # the rest now (the first half are being rendered again: their old copies are served)


def test_off_when_the_setting_is_zero(app):
    assert pagecache.page_cache(app) is None  # the suite's app: tests/conftest.py sets 0
