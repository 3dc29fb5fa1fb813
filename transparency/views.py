# SPDX-License-Identifier: AGPL-3.0-or-later
"""Public pages of verifiable disclosure that need no login: the in-browser verifier.

The verifier page is static apart from its translated labels: every check runs in the
browser (static/js/verify.js) on files the visitor chooses, so the page trusts nothing from
our server but the code it serves. ``/verify?bundle=/path/to/bundle.json`` makes the page
fetch a same-site bundle and check it at once (a published report's page links here);
``&key=`` pre-fills the key field, which the visitor should still compare with a fingerprint
obtained elsewhere (the organisation's notice board, a printed report).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Blueprint, current_app, render_template, request

from core.downloads import download

from . import standalone

bp = Blueprint("transparency", __name__)

# A fingerprint, base64 key or verifier key ``<host>/commons-ledger/<id>+<key id>+<base64>``.
_KEY_TEXT = re.compile(r"[A-Za-z0-9+/=.\-_:\[\]~]{1,300}")


def _same_site_path(value: str | None) -> str | None:
    """A path on this site, or None: the page must never fetch from elsewhere (the CSP's
    connect-src 'self' would refuse anyway) or be turned into an open redirect."""
    if not value or len(value) > 500 or "\\" in value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return None
    return value


@bp.get("/verify")
def verify_page():
    """The in-browser verifier (transparency/FORMAT.md, the same checks as the CLI)."""
    key = request.args.get("key", "")
    return render_template(
        "transparency/verify.html",
        bundle_url=_same_site_path(request.args.get("bundle")),
        key_text=key if _KEY_TEXT.fullmatch(key) else "",
        public_host=current_app.config["PUBLIC_HOST"],
    )


@bp.get("/verify/receipt")
def receipt_check():
    """ "Check my receipt", for anyone, without an account: the resident pastes, uploads or
    scans their receipt and the browser verifies it (static/js/receipt-check.js). A printed
    receipt's QR code opens this page with the receipt in the URL's fragment
    (``#r=<base64url of the deflated JSON>``), which browsers never send to a server."""
    return render_template(
        "transparency/receipt_check.html", public_host=current_app.config["PUBLIC_HOST"]
    )


@bp.get("/verify/commons_verify.py")
def verifier_download():
    """The command-line verifier as one self-contained Python file (Python 3 + cryptography),
    built from the very modules the server runs (transparency/verify.py and tlog/)."""
    return download(standalone.build(), standalone.FILENAME, "text/x-python")
