"""Domain errors carry their HTTP meaning; one handler renders them as JSON or HTML.

Services raise these; views and API endpoints never build error responses by hand.
The message is a lazy translation, rendered in the request's language.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, jsonify, make_response, render_template, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from .db import db

log = logging.getLogger(__name__)


class DomainError(Exception):
    status = 400
    code = "bad_request"
    default_message = _l("The request could not be processed.")

    def __init__(self, message=None, *, errors: dict | None = None, code: str | None = None):
        super().__init__(str(message or self.default_message))
        self.message = message or self.default_message
        self.errors = errors or {}
        if code:
            self.code = code


class InvalidInput(DomainError):
    status = 422
    code = "invalid"
    default_message = _l("Some of the input is not valid. Please check it and try again.")


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"
    default_message = _l("Please log in first.")


class NotPermitted(DomainError):
    status = 403
    code = "forbidden"
    default_message = _l("You do not have permission to do this.")


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = _l("The page or record you asked for does not exist.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _l("This conflicts with the current state. Please reload and try again.")


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"
    default_message = _l("Too many attempts. Please wait a while and try again.")


HTTP_MESSAGES = {
    400: _l("The request is malformed."),
    401: _l("Please log in first."),
    403: _l("You do not have permission to do this."),
    404: _l("The page or record you asked for does not exist."),
    405: _l("This request method is not allowed here."),
    409: _l("This conflicts with the current state. Please reload and try again."),
    413: _l("The upload is too large."),
    415: _l("Unsupported content type. Please send JSON."),
    422: _l("Some of the input is not valid. Please check it and try again."),
    429: _l("Too many attempts. Please wait a while and try again."),
    500: _l("Internal server error. The problem has been logged."),
    503: _l("The service is briefly unavailable. Please try again in a moment."),
}
HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "server_error",
    503: "unavailable",
}


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def error_response(status: int, code: str, message, errors: dict | None = None):
    message = str(message)
    if wants_json():
        resp = jsonify({"code": code, "message": message, "errors": errors or {}})
        resp.status_code = status
        return resp
    return (
        render_template("errors/error.html", status=status, message=message, errors=errors or {}),
        status,
    )


def unavailable_response():
    """503 "briefly unavailable, retry" with Retry-After, for a request whose database went away.

    The caller has rolled the session back. The answer must not need the database again: when
    the page or its language does (the signed-in user's saved language is an expired attribute
    after the rollback), it is given in the default language, without the page around it."""
    message = HTTP_MESSAGES[503]
    try:
        response = make_response(error_response(503, "unavailable", message))
    except SQLAlchemyError:
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            text = str(message)
        if wants_json():
            response = jsonify({"code": "unavailable", "message": text, "errors": {}})
            response.status_code = 503
        else:
            response = make_response((text, 503, {"Content-Type": "text/plain; charset=utf-8"}))
    response.headers["Retry-After"] = "2"
    return response


def _translate_field_errors(messages) -> dict:
    """webargs/marshmallow errors: {location: {field: [msg]}} → {field: [msg]}."""
    if not isinstance(messages, dict):
        return {"_schema": [str(messages)]}
    if set(messages) <= {"json", "query", "form", "headers", "files", "view_args", "path"}:
        merged: dict = {}
        for part in messages.values():
            if isinstance(part, dict):
                merged.update(part)
        messages = merged
    return messages


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(e: DomainError):
        g.audit_outcome_detail = e.code
        return error_response(e.status, e.code, e.message, e.errors)

    @app.errorhandler(CSRFError)
    def _csrf(e: CSRFError):
        g.audit_security = True
        g.audit_outcome_detail = "csrf"
        return error_response(
            400,
            "csrf",
            _l(
                "The security token is missing or has expired. Please reload the page and submit again."
            ),
        )

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException):
        status = e.code or 500
        errors = None
        data = getattr(e, "data", None)
        if isinstance(data, dict) and "messages" in data:
            errors = _translate_field_errors(data["messages"])
        message = HTTP_MESSAGES.get(status, e.description)
        return error_response(status, HTTP_CODES.get(status, "error"), message, errors)

    @app.errorhandler(RecursionError)
    def _too_deep(e: RecursionError):
        # JSON nested deeper than the parser's recursion limit: the client's mistake.
        g.audit_outcome_detail = "too_deep"
        return error_response(400, "bad_request", HTTP_MESSAGES[400])

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_unavailable(e: SQLAlchemyError):
        # The database went away mid-request (restart, failover, a killed server): nothing of
        # the request was committed (the request's hook rolls back), and a retry (with its
        # Idempotency-Key) is the right move. A 503 with Retry-After, not a 500: neither the
        # input's fault nor a bug of ours.
        current_app.logger.warning("database unavailable: %s", e, exc_info=True)
        return unavailable_response()

    @app.errorhandler(Exception)
    def _unexpected(e: Exception):
        current_app.logger.exception("unhandled error")
        # A failed flush leaves the session unusable; the answer (its language comes from the
        # user's row) must not fail again on it.
        db.session.rollback()
        return error_response(500, "server_error", HTTP_MESSAGES[500])
