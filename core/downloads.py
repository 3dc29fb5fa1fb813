"""One way to answer with a file, and one way to write CSV.

``download`` wraps Flask's ``send_file``: the right mimetype (text types with ``charset=utf-8``),
``Content-Disposition`` with ``download_name`` (Werkzeug writes an ASCII ``filename`` and the
UTF-8 ``filename*`` for names such as ``试算平衡表.csv``), ``attachment`` or ``inline``.

``csv_text`` and ``csv_response`` are the one CSV writer of the staff and the public downloads
(issue 9 item 5): UTF-8 with a byte-order mark (Excel on a Chinese Windows reads it right),
CRLF line ends, and every *text* cell that a spreadsheet would run as a formula — starting
with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a line feed — is prefixed with an
apostrophe, which spreadsheets show as text (OWASP "CSV injection"). A cell that is exactly a
plain decimal number (``-12.00``, ``1234``) is left alone: it is an amount, a spreadsheet
reads it as a number and runs nothing; ints and Decimals are written as they are.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from decimal import Decimal

from flask import Response, send_file

__all__ = ["csv_cell", "csv_response", "csv_text", "download"]

_FORMULA_START = frozenset("=+-@\t\r\n")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def csv_cell(value) -> str | int | Decimal:
    """One cell as written: None is empty; numbers as they are; formula-like text escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | Decimal):
        return value
    text = str(value)
    if _PLAIN_NUMBER.fullmatch(text):
        return text
    first = text[:1]
    if first in _FORMULA_START or text.lstrip(" ")[:1] in _FORMULA_START:
        return "'" + text
    return text


def csv_text(rows: Iterable[Iterable], *, bom: bool = True, lineterminator: str = "\r\n") -> str:
    """The rows as CSV text, every cell through ``csv_cell``."""
    buf = io.StringIO()
    if bom:
        buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator=lineterminator)
    for row in rows:
        writer.writerow([csv_cell(c) for c in row])
    return buf.getvalue()


def download(
    body: bytes | str,
    filename: str,
    mimetype: str,
    *,
    inline: bool = False,
    etag: str | bool = True,
    private: bool = False,
) -> Response:
    """A file answer: ``body`` (text is sent as UTF-8) named ``filename``."""
    data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    resp = send_file(
        io.BytesIO(data),
        mimetype=mimetype,
        as_attachment=not inline,
        download_name=filename,
        etag=etag,
        max_age=0,
    )
    if private:
        resp.headers["Cache-Control"] = "private, no-store"
    return resp


def csv_response(rows: Iterable[Iterable], filename: str) -> Response:
    """Rows as a CSV download (see the module docstring)."""
    return download(csv_text(rows), filename, "text/csv")
