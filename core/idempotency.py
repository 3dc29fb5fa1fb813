"""Idempotency-Key for API writes: a retried request is answered again, never done again.

A client that is unsure whether a write reached us (a timeout, a dropped connection) sends it
again with the same ``Idempotency-Key`` header. The first request's status and JSON body are
stored with the key in the same transaction as the write itself, so:

- a write that failed (any 4xx/5xx, or a failed commit) stores nothing, and may be retried;
- a retry of a write that committed gets the stored answer, with ``Idempotent-Replayed: true``,
  and writes nothing;
- the same key with a different request (method, path or body) is refused with 422.

Concurrent duplicates: the key is claimed (inserted) *before* the write runs, inside a
savepoint. On PostgreSQL a second request with the same key waits on the unique index
(user_id, key) until the first commits or rolls back; then it either replays the stored answer
or, if the first failed, does the write itself. If the claim still collides at commit time
(a race the savepoint did not see), core.app turns the IntegrityError into a 409, and the
client's next retry is replayed. On SQLite write requests are serialised by BEGIN IMMEDIATE.

Keys are per user: the same key from two users names two different requests.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib

import sqlalchemy as sa
from flask import current_app, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from . import audit
from .auth import authenticated_user
from .db import db, utcnow
from .errors import Conflict, InvalidInput
from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 100
PENDING = 0  # status_code of a claimed key whose request has not finished

# For flask-smorest: ``@blp.doc(parameters=[OPENAPI_PARAMETER])`` documents the header.
OPENAPI_PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    "description": (
        "A unique key (for example a UUID) chosen by the client. A retry with the same key and "
        "the same request gets the first answer again (header Idempotent-Replayed: true) and "
        "changes nothing; the same key with a different request is refused with 422."
    ),
}


def valid_key(key: str) -> bool:
    """1 to 100 printable ASCII characters (RFC 9110 field values allow no control characters)."""
    return 1 <= len(key) <= MAX_KEY_LENGTH and all(" " <= ch <= "~" for ch in key)


def request_fingerprint() -> str:
    """SHA-256 over method, path with query, and the SHA-256 of the raw body."""
    body_digest = hashlib.sha256(request.get_data(cache=True)).hexdigest()
    path = request.full_path if request.query_string else request.path
    text = f"{request.method}\n{path}\n{body_digest}"
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _find(user_id: int, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        sa.select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
        )
    )


def _replay(record: IdempotencyRecord, fingerprint: str):
    if record.fingerprint != fingerprint:
        raise InvalidInput(
            _l(
                "This Idempotency-Key was already used for a different request. "
                "Use a new key for a new request."
            ),
            errors={HEADER: [str(_l("Already used for a different request."))]},
            code="idempotency_key_reused",
        )
    if record.status_code == PENDING:  # only visible if a claim ever leaked; refuse, never redo
        raise Conflict(_l("A request with this Idempotency-Key is still being processed."))
    audit.note(idempotent_replay=True)
    response = current_app.response_class(
        record.body, status=record.status_code, mimetype="application/json"
    )
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _claim(user_id: int, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """Insert the key inside a savepoint. None if another request holds or held it."""
    record = IdempotencyRecord(
        user_id=user_id,
        key=key,
        fingerprint=fingerprint,
        status_code=PENDING,
        body="",
        created_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except IntegrityError:
        return None
    return record


def purge_records(older_than: dt.timedelta = dt.timedelta(days=7)) -> int:
    """Forget answers older than ``older_than`` (clients retry within minutes, not weeks).

    Flushes, never commits: call it from a CLI command or a scheduled job that commits."""
    result = db.session.execute(
        sa.delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - older_than)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]  # a CursorResult


def idempotent(view):
    """Decorate a write endpoint (below ``@blp.route``, above ``@blp.arguments``/``response``).

    Without the header the endpoint runs as usual. With it, see the module docstring.
    """

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        user = authenticated_user()  # keys belong to a user: anonymous writes get 401 anyway
        if not valid_key(key):
            raise InvalidInput(
                _l("The Idempotency-Key header must be 1 to 100 printable ASCII characters."),
                errors={HEADER: [str(_l("Invalid key."))]},
            )
        fingerprint = request_fingerprint()
        existing = _find(user.id, key)
        if existing is not None:
            return _replay(existing, fingerprint)
        record = _claim(user.id, key, fingerprint)
        if record is None:  # a concurrent request with this key committed meanwhile
            existing = _find(user.id, key)
            if existing is None:
                raise Conflict(_l("A request with this Idempotency-Key is still being processed."))
            return _replay(existing, fingerprint)

        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code >= 400:
            return response  # the request's transaction, claim included, is rolled back
        if response.is_streamed:  # nothing to replay: release the key rather than pin it
            db.session.delete(record)
            return response
        # Kept only if the write commits: the request's single commit carries both.
        record.status_code = response.status_code
        record.body = response.get_data(as_text=True)
        return response

    return wrapper
