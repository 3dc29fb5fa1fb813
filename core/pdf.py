# SPDX-License-Identifier: AGPL-3.0-or-later
"""PDF documents (WeasyPrint) and QR codes (segno) for reports and receipts.

A PDF is HTML from ``templates/pdf/`` with ``static/css/pdf.css``. Chinese text needs a CJK
font on the server (Debian: fonts-noto-cjk); WeasyPrint subsets and embeds it, so the file
reads the same on any machine. Without such a font a PDF would show empty boxes where the
figures' labels should be, so we refuse with a clear 503 instead. Any other failure of the
PDF machinery (missing Pango, a WeasyPrint bug) is a 503 too, never a 500: the page and the
bundle remain available.

WeasyPrint fetches nothing from the network: the URL fetcher below serves only ``data:``
URIs (the QR code); the stylesheet is read from ``static/css/pdf.css``.
"""

from __future__ import annotations

import glob
import logging
import os
import shutil
import subprocess
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from .errors import DomainError

log = logging.getLogger(__name__)

# The font stack pdf.css names, most preferred first.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Serif CJK SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "AR PL UMing CN",
)
_FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    os.path.expanduser("~/.local/share/fonts"),
)


class PdfUnavailable(DomainError):
    status = 503
    code = "pdf_unavailable"
    default_message = _l(
        "PDF documents cannot be made on this server right now. The page and the JSON and "
        "CSV downloads are still available."
    )


def cjk_font_family() -> str | None:
    """The first font of our stack that fontconfig knows, or None.

    Asked of fontconfig each time (a few milliseconds) so that installing a font needs no
    restart and nothing is cached in the process."""
    fc_list = shutil.which("fc-list")
    if fc_list:
        try:
            out = subprocess.run(
                [fc_list, ":lang=zh-cn", "family"],
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        families = {f.strip() for line in out.splitlines() for f in line.split(",")}
        for family in CJK_FAMILIES:
            if family in families:
                return family
        return None
    # No fontconfig tools: look for the usual font files instead.
    for directory in _FONT_DIRS:
        for pattern in ("**/NotoSansCJK*", "**/SourceHanSans*", "**/NotoSerifCJK*", "**/wqy*"):
            if glob.glob(os.path.join(directory, pattern), recursive=True):
                return CJK_FAMILIES[0]
    return None


def _url_fetcher():
    """A fetcher that serves ``data:`` URIs only (the embedded QR code): never the network,
    never a local file (WeasyPrint 70 has URLFetcher; older versions take a function)."""
    from weasyprint import urls

    if hasattr(urls, "URLFetcher"):
        return urls.URLFetcher(allowed_protocols={"data"})

    def fetch(url: str, *args, **kwargs):
        if not url.startswith("data:"):
            raise ValueError(f"refusing to fetch {url[:80]}")
        return urls.default_url_fetcher(url, *args, **kwargs)

    return fetch


def render_pdf(html: str) -> bytes:
    """HTML (from a ``templates/pdf`` template) → PDF bytes, A4, with a CJK font embedded.

    Raises :class:`PdfUnavailable` (503) when no CJK font is installed or WeasyPrint fails."""
    if cjk_font_family() is None:
        log.error("no CJK font found by fontconfig; install fonts-noto-cjk")
        raise PdfUnavailable(
            _l(
                "No Chinese font is installed on the server, so the PDF cannot be made (the "
                "administrator can install the fonts-noto-cjk package). The page and the JSON and CSV "
                "downloads are still available."
            ),
            code="pdf_no_cjk_font",
        )
    try:
        from weasyprint import CSS, HTML

        stylesheet = CSS(
            filename=str(Path(current_app.static_folder or "static") / "css" / "pdf.css")
        )
        return HTML(string=html, url_fetcher=_url_fetcher()).write_pdf(stylesheets=[stylesheet])
    except Exception:  # ImportError/OSError (missing Pango) and any rendering failure
        log.exception("PDF rendering failed")
        raise PdfUnavailable() from None


# --- QR codes --------------------------------------------------------------------------------


def _qr(data: str):
    try:
        import segno  # BSD-3-Clause
    except ImportError:
        log.error("the segno package is not installed; QR codes cannot be made")
        raise PdfUnavailable(
            _l(
                "QR codes cannot be made on this server right now. The receipt's JSON "
                "download is still available."
            ),
            code="qr_unavailable",
        ) from None
    return segno.make(data, error="m", micro=False)


def qr_svg(data: str) -> str:
    """A standalone SVG document of the QR code for ``data``."""
    import io

    buf = io.BytesIO()
    _qr(data).save(buf, kind="svg", scale=4, border=2, xmldecl=True, dark="#000", light="#fff")
    return buf.getvalue().decode("utf-8")


def qr_data_uri(data: str) -> str:
    """The same QR code as a ``data:`` URI, to embed in a PDF (img-src data: is allowed)."""
    return _qr(data).svg_data_uri(scale=4, border=2, dark="#000", light="#fff")
