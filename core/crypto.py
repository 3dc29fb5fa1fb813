"""Field encryption for personal data at rest (residents' phone and ID numbers).

The key is a Fernet key from ``COMMONS_FIELD_KEY`` (generated into the instance folder in
development). Encrypted values never leave the server unmasked except to the person's own
view and the treasurer's edit form.
"""

from __future__ import annotations

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _fernet() -> Fernet:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    f = app.extensions.get("commons_fernet")
    if f is None:
        f = app.extensions["commons_fernet"] = Fernet(app.config["FIELD_KEY"].encode())
    return f


class EncryptedString(sa.types.TypeDecorator):
    """A string stored as a Fernet token; ``None`` stays NULL."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return _fernet().encrypt(str(value).encode()).decode()

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        try:
            return _fernet().decrypt(value.encode()).decode()
        except InvalidToken:
            # A wrong key must not crash a page: show that the value is unreadable.
            return None


def mask_phone(phone: str | None) -> str:
    """138****1234 (DOMAIN.md DP-4)."""
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id_number(value: str | None) -> str:
    """An ID number is never shown: only its last 4 characters, to tell two records apart."""
    if not value:
        return ""
    v = value.strip()
    return "*" * max(len(v) - 4, 0) + v[-4:]


def mask_name(name: str | None) -> str:
    """Surname plus one asterisk per remaining character: 张** (DOMAIN.md DP-4)."""
    if not name:
        return ""
    n = name.strip()
    return n[0] + "*" * max(len(n) - 1, 1)
