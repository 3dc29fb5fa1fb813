"""Flask extension singletons, initialised in ``create_app``."""

import datetime as dt

from flask_babel import Babel
from flask_login import LoginManager
from flask_smorest import Api
from flask_wtf.csrf import CSRFProtect
from marshmallow import Schema, fields

from .db import db

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


class ErrorSchema(Schema):
    """The error body every API answer of 4xx/5xx has (core/errors.py: error_response); the
    OpenAPI document's ``default`` response. flask-smorest's own (an integer ``code``) did not
    match what the app sends (found by the schemathesis fuzz, tests/security/test_fuzz_api.py)."""

    code = fields.String(required=True, metadata={"description": "A stable error code"})
    message = fields.String(required=True, metadata={"description": "In the request's language"})
    errors = fields.Dict(
        keys=fields.String(), metadata={"description": "Field name → messages (may nest)"}
    )


class UtcDateTime(fields.DateTime):
    """A timestamp of the database (naive UTC, core.db.utcnow) as RFC 3339 with its offset:
    ``2026-12-03T12:47:22.667062+00:00``. A bare ``DateTime`` wrote it without one, which is
    not the documented ``date-time`` format (found by the schemathesis fuzz)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class CommonsApi(Api):
    ERROR_SCHEMA = ErrorSchema


api = CommonsApi()

__all__ = ["db", "login_manager", "csrf", "babel", "api"]
