# SPDX-License-Identifier: AGPL-3.0-or-later
"""A short-lived cache of public pages as sent, in each server process.

Residents open the public pages in bursts (a notice goes up at the gate, a hundred phones open
the same report within a minute). Every one of those pages is the same bytes for every anonymous
visitor who asks in the same language, so a process that has just rendered one answers the next
visitors with those bytes for ``PUBLIC_PAGE_CACHE_SECONDS`` (``COMMONS_PUBLIC_PAGE_CACHE_SECONDS``,
default 30; 0 turns the cache off). The page is rendered by the one view that always renders it:
the cache keeps its output, it is not a second way to make a page.

What may be kept, and for whom:

- only GET and HEAD requests to a blueprint in ``CACHED_BLUEPRINTS`` (read-only public pages;
  a domain adds its own public blueprint from its plugin), from a visitor who is not signed in;
- only answers the view itself declared public (``Cache-Control: public`` — transparency's
  public blueprint sets it on every 200 it sends to an anonymous visitor), with status 200,
  no cookie set and a body in memory;
- by the full URL (host, path and query) and the language the page was rendered in.

How stale a page can be: a kept page is used only while the database's *publication marker* is
what it was when the page was rendered (``FRESHNESS``: transparency adds the newest report and
checkpoint, so a report published by any process shows on the very next request everywhere; the
price is one indexed query per request, on the primary). Anything else a page shows (a domain's
running totals, a renamed organisation) is about ``PUBLIC_PAGE_CACHE_SECONDS`` old at most
(twice that while one thread renders an expired page again: ``PageCache``), and a
write committed by this process clears its whole cache at once. Signed-in visitors (the
treasurer who just published) never read from the cache. Bounded: ``MAX_ENTRIES`` pages and ``MAX_BYTES`` bytes per process, least
recently used first out.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, Response, request, session
from flask_babel import get_locale
from flask_login import current_user

#: Blueprints whose anonymous GET/HEAD answers may be kept (read-only public pages).
CACHED_BLUEPRINTS: set[str] = {"public"}

#: ``fn(connection) -> value`` run on the primary before each cached answer: a kept page is
#: used only while every value is what it was when the page was rendered.
FRESHNESS: list[Callable[[sa.Connection], object]] = []

MAX_ENTRIES = 512
MAX_BYTES = 64 * 1024 * 1024

# Headers that belong to one answer, not to the page: recomputed for each request.
_PER_ANSWER = frozenset({"content-length", "date", "set-cookie"})


@dataclass(frozen=True)
class Entry:
    stored: float  # time.monotonic() when rendered
    marker: tuple  # the FRESHNESS values read before it was rendered
    body: bytes
    headers: tuple[tuple[str, str], ...]
    mimetype: str | None


class PageCache:
    """The pages of one process, least recently used first (thread-safe: gthread workers).

    A page expires after ``seconds`` less up to ``jitter`` of it (drawn per page, so the pages
    rendered together after a start do not all expire together and stall the process at once).
    When an expired page is asked for, the first caller renders it again while the others keep
    getting the expired copy (at most ``2 × seconds`` old) until the new one is in: one render
    per page, not one per waiting thread. A changed publication marker is never served stale."""

    def __init__(self, seconds: float, clock=time.monotonic, jitter: float = 0.25) -> None:
        self.seconds = seconds
        self.clock = clock
        self.jitter = jitter
        self._random = random.Random()
        self._entries: OrderedDict[tuple, Entry] = OrderedDict()
        self._expires: dict[tuple, float] = {}
        self._refreshing: dict[tuple, float] = {}  # key → when a caller began rendering it again
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple, marker: tuple = ()) -> Entry | None:
        """The kept page, or None when the caller must render it (and ``put`` it)."""
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.marker != marker or now - entry.stored >= 2 * self.seconds:
                if entry is not None:
                    self._drop(key)
                self.misses += 1
                return None
            if now >= self._expires[key]:
                started = self._refreshing.get(key)
                if started is None or now - started >= self.seconds:  # (or its renderer failed)
                    self._refreshing[key] = now
                    self.misses += 1
                    return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: tuple, entry: Entry) -> None:
        size = len(entry.body)
        with self._lock:
            self._refreshing.pop(key, None)
            if size > MAX_BYTES // 8:
                return  # one page must not push everything else out
            if key in self._entries:
                self._drop(key)
            self._entries[key] = entry
            self._expires[key] = entry.stored + self.seconds * (
                1 - self.jitter * self._random.random()
            )
            self._bytes += size
            while len(self._entries) > MAX_ENTRIES or self._bytes > MAX_BYTES:
                self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._expires.clear()
            self._refreshing.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: tuple) -> None:
        self._expires.pop(key, None)
        entry = self._entries.pop(key)
        self._bytes -= len(entry.body)


def page_cache(app: Flask) -> PageCache | None:
    """``app``'s cache, or None when it is turned off."""
    return app.extensions.get("commons_page_cache")


def _marker(app: Flask) -> tuple | None:
    """The FRESHNESS values now, read on the primary; None when they cannot be read (then the
    cache is neither read nor filled for this request)."""
    if not FRESHNESS:
        return ()
    from .db import db, read_only_transactions

    try:
        if db.engine.dialect.name == "sqlite":
            # In process, in a deferred transaction: this runs before the request's own hooks
            # have marked it read-only.
            with read_only_transactions(), db.engine.connect() as conn:
                return tuple(fn(conn) for fn in FRESHNESS)
        # A server database: one round trip. The application's pool pings each connection it
        # lends and wraps each read in BEGIN … ROLLBACK (four more round trips, which on a busy
        # host cost more than the page itself); this process's own autocommit pool, without
        # the ping, sends the one query. A broken connection fails the query (the pool drops
        # it): the request is then answered as if the cache were off.
        with marker_engine(app).connect() as conn:
            return tuple(fn(conn) for fn in FRESHNESS)
    except sa.exc.DBAPIError:
        return None


_marker_lock = threading.Lock()


def marker_engine(app: Flask) -> sa.Engine:
    """This process's engine for the publication marker (made on first use in each process:
    a server's workers are forked after the application is made, and must not share its
    connections)."""
    pid = os.getpid()
    made = app.extensions.get("commons_page_marker")
    if made is None or made[0] != pid:
        with _marker_lock:
            made = app.extensions.get("commons_page_marker")
            if made is None or made[0] != pid:
                from .db import db

                options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
                options.update(pool_pre_ping=False, isolation_level="AUTOCOMMIT")
                made = (pid, sa.create_engine(db.engine.url, **options))
                app.extensions["commons_page_marker"] = made
    return made[1]


def _key() -> tuple | None:
    """This request's key, or None when its answer may not come from (or go into) the cache."""
    if request.method not in ("GET", "HEAD") or request.blueprint not in CACHED_BLUEPRINTS:
        return None
    if request.headers.get("Authorization"):
        return None
    try:
        if current_user.is_authenticated:
            return None
    except Exception:  # no user loadable (a database error): render, do not guess
        return None
    return (request.url, str(get_locale()))


def register(app: Flask) -> None:
    """Install the cache's two request hooks (call first among the before_request hooks, so a
    hit skips every later one, and so that its after_request hook runs last and sees the
    answer with every header set)."""
    seconds = float(app.config["PUBLIC_PAGE_CACHE_SECONDS"])  # core/config.py: default 30
    if seconds <= 0:
        return
    cache = PageCache(seconds)
    app.extensions["commons_page_cache"] = cache

    @app.before_request
    def _serve_cached():
        key = _key()
        if key is None:
            return None
        marker = _marker(app)
        if marker is None:
            return None
        entry = cache.get(key, marker)
        if entry is None:
            request.environ["commons.page_cache_key"] = (key, marker)
            return None
        response = Response(entry.body, status=200, mimetype=entry.mimetype)
        for name, value in entry.headers:
            if name.lower() != "content-type":
                response.headers.add(name, value)
        response.headers["X-Cache"] = "hit"
        return response.make_conditional(request)

    @app.after_request
    def _keep(response: Response) -> Response:
        if request.method not in ("GET", "HEAD", "OPTIONS") and response.status_code < 400:
            cache.clear()  # a write committed here: no page of ours shows the old state
            return response
        pending = request.environ.pop("commons.page_cache_key", None)
        if (
            pending is None
            or response.status_code != 200
            or response.direct_passthrough
            or response.is_streamed
            or "Set-Cookie" in response.headers
            or session.modified  # the cookie is set after this hook: the page is this visitor's
            or "public" not in (response.headers.get("Cache-Control") or "")
        ):
            return response
        headers = tuple(
            (name, value) for name, value in response.headers if name.lower() not in _PER_ANSWER
        )
        key, marker = pending
        cache.put(
            key, Entry(cache.clock(), marker, response.get_data(), headers, response.mimetype)
        )
        return response
