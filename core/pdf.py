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

import gc
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


def render_pdf(html: str, *, stylesheet: str | None = None) -> bytes:
    """HTML (from a ``templates/pdf`` template) → PDF bytes, A4, with a CJK font embedded.

    ``stylesheet`` is CSS text used instead of ``static/css/pdf.css`` (the ledger's statements
    bring their own page rules: portrait or landscape, 第 N 页 / 共 M 页, signature lines).
    The cycle collector is paused while WeasyPrint lays out (it allocates millions of small
    objects and frees them at the end: the collector would walk them again and again).

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

        css = (
            CSS(string=stylesheet)
            if stylesheet is not None
            else CSS(filename=str(Path(current_app.static_folder or "static") / "css" / "pdf.css"))
        )
        enabled = gc.isenabled()
        gc.disable()
        try:
            return HTML(string=html, url_fetcher=_url_fetcher()).write_pdf(stylesheets=[css])
        finally:
            if enabled:
                gc.enable()
    except Exception:  # ImportError/OSError (missing Pango) and any rendering failure
        log.exception("PDF rendering failed")
        raise PdfUnavailable() from None


def _render_part(html: str, css: str) -> bytes:
    """One chunk, in a worker process: WeasyPrint only (no app, no database)."""
    from weasyprint import CSS, HTML

    gc.disable()
    try:
        return HTML(string=html, url_fetcher=_url_fetcher()).write_pdf(
            stylesheets=[CSS(string=css)]
        )
    finally:
        gc.enable()  # the worker takes the next chunk with this one's garbage collected
        gc.collect()


def parallel_available() -> bool:
    """Chunks can be rendered in parallel: pypdf joins them and the machine has two cores."""
    try:
        import pypdf  # noqa: F401  (BSD-3-Clause)
    except ImportError:
        return False
    return (os.cpu_count() or 1) > 1


def render_pdf_chunks(
    parts: list[str], *, stylesheet: str, page_numbers: str, workers: int | None = None
) -> bytes:
    """A long document laid out as ``parts`` (each a whole HTML document, the pieces of one
    report in order) rendered in parallel processes and joined into one PDF (pypdf).

    ``stylesheet`` is the pages' CSS without page numbers; ``page_numbers`` is CSS for a
    blank document of as many pages whose margin boxes print them (第 N 页 / 共 M 页): laid
    over the joined pages, so the numbers run across the chunks. Falls back to one process
    when pypdf is missing or there is only one part. Raises :class:`PdfUnavailable` like
    :func:`render_pdf`."""
    if len(parts) < 2 or not parallel_available():
        joined = parts[0] if len(parts) == 1 else _join_html(parts)
        return render_pdf(joined, stylesheet=stylesheet + page_numbers)
    if cjk_font_family() is None:
        return render_pdf(parts[0], stylesheet=stylesheet)  # raises the clear 503
    import io
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    try:
        import pypdf
        from weasyprint import CSS, HTML

        n = workers or min(len(parts), os.cpu_count() or 2)
        with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork")) as pool:
            pdfs = list(pool.map(_render_part, parts, [stylesheet] * len(parts)))
        writer = pypdf.PdfWriter()
        for data in pdfs:
            writer.append(pypdf.PdfReader(io.BytesIO(data)))
        total = len(writer.pages)
        blank = (
            "<!doctype html><html><body>"
            + "<div style='break-after: page'></div>" * (total - 1)
            + "<div></div></body></html>"
        )
        numbers = pypdf.PdfReader(
            io.BytesIO(
                HTML(string=blank, url_fetcher=_url_fetcher()).write_pdf(
                    stylesheets=[CSS(string=page_numbers)]
                )
            )
        )
        for page, overlay in zip(writer.pages, numbers.pages, strict=False):
            page.merge_page(overlay)
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()
    except PdfUnavailable:
        raise
    except Exception:
        log.exception("PDF rendering (in parallel chunks) failed")
        raise PdfUnavailable() from None


def _join_html(parts: list[str]) -> str:
    """The bodies of several HTML documents in one document (the serial fallback)."""
    head, _, _ = parts[0].partition("<body>")
    bodies = [p.partition("<body>")[2].rpartition("</body>")[0] for p in parts]
    return head + "<body>" + "".join(bodies) + "</body></html>"


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


# --- 人民币大写 (amounts in Chinese capitals) -------------------------------------------------

_CAPITAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
CAPITAL_MAX_FEN = 10**18 - 1  # below 万万亿 yuan


def rmb_capital(fen: int) -> str:
    """人民币大写, as written on a voucher's or a cheque's total: the one converter (the
    voucher page's ``rmb_words`` filter and the PDFs use it). 0 → 零元整, 1000 → 壹拾元整,
    10000507 → 壹拾万零伍元零柒分, 10**10 → 壹亿元整, 123456 → 壹仟贰佰叁拾肆元伍角陆分; a
    negative amount (a red reversal) starts with 负. Zeros between digits are one 零 (a whole
    group of four zeros too); an amount ending at 元 or 角 ends with 整."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError("fen must be an int")
    neg, fen = fen < 0, abs(fen)
    if fen > CAPITAL_MAX_FEN:
        raise ValueError("amount too large for 大写")
    yuan, rest = divmod(fen, 100)
    jiao, cents = divmod(rest, 10)

    def group(n: int) -> str:
        out, zero = "", False
        for power, unit in ((3, "仟"), (2, "佰"), (1, "拾"), (0, "")):
            d = n // 10**power % 10
            if d == 0:
                zero = zero or bool(out)
            else:
                out += ("零" if zero else "") + _CAPITAL_DIGITS[d] + unit
                zero = False
        return out

    def integer(n: int) -> str:
        groups = []
        while n:
            n, g4 = divmod(n, 10000)
            groups.append(g4)
        out, zero = "", False
        for i in range(len(groups) - 1, -1, -1):
            g4 = groups[i]
            if g4 == 0:
                zero = zero or bool(out)
                continue
            if out and (zero or g4 < 1000):
                out += "零"
            # 壹万亿 alone, but 壹万零壹亿 (the 亿 comes with the group below)
            top = "万" if i == 3 and groups[2] else "万亿"
            out += group(g4) + ("", "万", "亿", top)[i]
            zero = False
        return out

    if fen == 0:
        return "零元整"
    words = integer(yuan) + "元" if yuan else ""
    if jiao:
        words += _CAPITAL_DIGITS[jiao] + "角"
    elif cents and yuan:
        words += "零"
    words += _CAPITAL_DIGITS[cents] + "分" if cents else "整"
    return ("负" if neg else "") + words
