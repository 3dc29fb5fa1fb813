# SPDX-License-Identifier: AGPL-3.0-or-later
"""Public disclosure pages (财务公开, no login) and residents' receipts (回执, login).

``public_bp`` (/public): communities → organisations → published reports, each report with
its statements, its verification status and its downloads. Public pages show aggregates only
(DOMAIN.md DP-3): no resident's name, phone, ID number, unit or individual payment. The
verification status is computed on every view by the same checks as the CLI
(``transparency.verify``) on the stored bundle, so it can never go stale or be faked by a
cached flag.

``receipts_bp`` (/books/…/receipt/…, /receipts): a resident's receipt for a posted voucher as
JSON, PDF and QR code, for the organisation's staff and for the resident themself.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from babel import numbers as babel_numbers
from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.routing import BuildError

from core import pagecache, pdf
from core.audit import record
from core.auth import authenticated_user, get_organisation
from core.db import db
from core.downloads import download
from core.errors import NotFound
from core.i18n import amount
from core.models import Community, Organisation, Resident
from core.parse import text_problem
from core.privacy import find_personal_data, terms_for_community
from ledger.models import Account, Book, Voucher, VoucherLine, VoucherStatus
from ledger.services import book_for, get_voucher
from tlog import notes

from . import charts, disclosure, glossary, keys, public_checks, receipts, verify
from .checkpoints import checkpoint_history
from .models import Checkpoint, DisclosureReport, SigningKey

public_bp = Blueprint("public", __name__, url_prefix="/public")
public_bp.add_app_template_filter(glossary.glossed, "glossed")
receipts_bp = Blueprint("receipts", __name__)

# Bundles larger than these are not re-verified on a page view (a 100,000-record bundle takes
# seconds): on the organisation's list, and on the report's own page and PDF. The page then
# says so and points to the downloads and the verifiers.
LIST_VERIFY_MAX_CHARS = 2_000_000
PAGE_VERIFY_MAX_CHARS = 20_000_000

KIND_LABELS = {
    "enterprise": _l("Community enterprise"),
    "foundation": _l("Foundation hosting community funds"),
    "trust_fund": _l("Compound trust fund (trust-model property management)"),
}
RECORD_KIND_LABELS = {
    "normal": "",
    "reversal": _l("Reversal"),
    "closing": _l("Year-end closing"),
    "opening": _l("Opening"),
}


# --- formatting ----------------------------------------------------------------------------


def grouped_hex(hex_text: str, group: int = 4) -> str:
    """``ab12cd34…`` → ``ab12 cd34 …``: a fingerprint people can read aloud and compare."""
    return " ".join(hex_text[i : i + group] for i in range(0, len(hex_text), group))


def statement_amount(minor: int | None, unit: str = "CNY") -> str:
    """A statement cell, "1,234.56" (Babel, the request's locale); blank for a heading."""
    digits = babel_numbers.get_currency_precision(unit) if len(unit) == 3 else 2
    return amount(minor, digits)


def _english() -> bool:
    return str(get_locale() or "zh").startswith("en")


def kind_label(kind: str) -> str:
    label = KIND_LABELS.get(kind)
    return str(label) if label else kind


def verify_url(bundle_url: str | None = None, key: str | None = None) -> str:
    """The in-browser verifier, told which same-site bundle to fetch and which key to expect."""
    params: dict[str, Any] = {k: v for k, v in (("bundle", bundle_url), ("key", key)) if v}
    try:
        return url_for("transparency.verify_page", **params)
    except BuildError:  # the verifier page's blueprint is not registered in this app
        return "/verify" + ("?" + urlencode(params, safe="/") if params else "")


def b64(data: bytes) -> str:
    return base64.b64encode(bytes(data)).decode()


def bundle_url(report: DisclosureReport) -> str:
    return f"/api/v1/public/reports/{report.id}/bundle.json"


def csv_url(report: DisclosureReport) -> str:
    return f"/api/v1/public/reports/{report.id}.csv"


@public_bp.app_template_filter("statement_amount")
def _statement_amount_filter(minor: int | None, unit: str = "CNY") -> str:
    return statement_amount(minor, unit)


@public_bp.app_template_filter("yuan")
def yuan_text(minor: int | None, unit: str = "CNY") -> str:
    """An amount as a resident reads it: ``¥1,234.56``, ``−¥8,167.96`` (the sign before the
    yuan sign); another unit as ``1,234 pt``."""
    if minor is None:
        return ""
    body = statement_amount(abs(minor), unit)
    body = f"¥{body}" if unit == "CNY" else f"{body} {unit}"
    return f"−{body}" if minor < 0 else body


@public_bp.app_template_filter("check_line")
def check_line(c: verify.Check) -> str:
    """One of the server's checks as the command-line verifier prints it, in Chinese on a
    Chinese page (``verify.zh_line``)."""
    return c.line() if _english() else verify.zh_line(c)


@public_bp.app_template_filter("verifier_key")
def verifier_key(key: SigningKey | dict) -> str:
    """The C2SP verifier key ``<origin>+<key id>+<base64>``: the key and the log's name (its
    origin) in one string, for the verifiers' ``--key`` (FORMAT.md §2)."""
    if isinstance(key, dict):
        return notes.vkey(key["name"], base64.b64decode(key["ed25519"]))
    return notes.vkey(key.name, bytes(key.public_key))


@public_bp.app_template_filter("grouped_hex")
def _grouped_hex_filter(text: str) -> str:
    return grouped_hex(text or "")


# --- verification status -------------------------------------------------------------------


@dataclass
class Verification:
    """The result of the CLI's checks on a stored bundle, for a page to show."""

    status: str  # verified | partly | failed | unchecked
    checks: list[verify.Check] = field(default_factory=list)
    note: str = ""

    @property
    def failed(self) -> list[verify.Check]:
        return [c for c in self.checks if c.status == verify.FAIL]

    @property
    def ok(self) -> bool:
        return self.status == "verified"


def verify_report(
    report: DisclosureReport, *, max_chars: int | None = None, too_large: str | None = None
) -> Verification:
    """Run ``python -m transparency.verify bundle.json --previous prev.json --key <published
    key>`` in process: the stored bytes, the previous report's bundle and the key the
    organisation publishes. Also checks the stored bytes against their recorded SHA-256."""
    if max_chars is not None and report.bundle_chars > max_chars:
        return Verification(
            "unchecked",
            note=too_large
            or str(_l("Too large to check on this page: download the bundle and verify it.")),
        )
    text = report.bundle.encode("utf-8")
    previous_text = report.previous.bundle.encode("utf-8") if report.previous is not None else b""
    key = report.checkpoint.key
    # The checks depend only on these bytes and the key: a page shown again reuses the result
    # (bench/RESULTS.md: re-verifying every report made the organisation page cost ~0.2–0.8 s).
    cache_key = (
        hashlib.sha256(text).digest(),
        report.bundle_sha256,
        hashlib.sha256(previous_text).digest(),
        bytes(key.public_key),
        key.fingerprint,
        key.name,
    )
    cached = _VERIFIED.get(cache_key)
    if cached is None:
        stored = _verified_file(cache_key)
        cached = _read_verification(stored)
        if cached is None:
            cached = _verify_bytes(report, text, key)
            _write_verification(stored, cached)
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[cache_key] = cached
    return cached


# Verification results by the bytes they were computed from: in each process (bounded), and
# shared by the server's processes as files in the instance folder's cache (DESIGN.md §6: local
# files only for keys and caches). A 6 MB bundle takes about a second to verify; without the
# files every worker process did it again for every report after each start.
_VERIFIED: dict[tuple, Verification] = {}
_VERIFIED_MAX = 1024
_VERIFIER_SOURCE: list[str] = []  # the verifier's own hash: a new verifier checks again


def _verified_file(cache_key: tuple) -> Path:
    if not _VERIFIER_SOURCE:
        _VERIFIER_SOURCE.append(hashlib.sha256(Path(verify.__file__).read_bytes()).hexdigest())
    h = hashlib.sha256(_VERIFIER_SOURCE[0].encode())
    for part in cache_key:
        h.update(
            len(part).to_bytes(8, "big") + (part if isinstance(part, bytes) else part.encode())
        )
    return Path(current_app.instance_path) / "cache/verified" / f"{h.hexdigest()}.json"


def _encode_text(value: object) -> object:
    """A check's detail as JSON: a ``verify.Msg`` keeps its key and parameters (it renders in
    either language), lists and tuples keep their kind (they join differently)."""
    if isinstance(value, verify.Msg):
        return {"m": value.key, "p": {k: _encode_text(v) for k, v in value.params.items()}}
    if isinstance(value, list | tuple):
        return {"l" if isinstance(value, list) else "t": [_encode_text(v) for v in value]}
    return str(value)


def _decode_text(value: Any) -> Any:
    if isinstance(value, dict):
        if "m" in value:
            return verify.Msg(value["m"], **{k: _decode_text(v) for k, v in value["p"].items()})
        items = [_decode_text(v) for v in value.get("l") or value.get("t") or []]
        return items if "l" in value else tuple(items)
    return value


def _read_verification(path: Path) -> Verification | None:
    try:
        data = json.loads(path.read_text("utf-8"))
        checks = [
            verify.Check(**{k: _decode_text(v) for k, v in c.items()}) for c in data["checks"]
        ]
        return Verification(data["status"], checks)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # not there yet, or written by another version: check again


def _write_verification(path: Path, v: Verification) -> None:
    if v.status not in ("verified", "partly", "failed"):
        return
    data = {
        "status": v.status,
        "checks": [
            {f.name: _encode_text(getattr(c, f.name)) for f in dataclasses.fields(c)}
            for c in v.checks
        ],
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
        os.replace(tmp, path)
    except OSError:
        current_app.logger.warning("could not keep a verification result in %s", path)


def _verify_bytes(report: DisclosureReport, text: bytes, key: SigningKey) -> Verification:
    result = verify.Report()
    digest = hashlib.sha256(text).hexdigest()
    if digest == report.bundle_sha256:
        result.add(
            "stored_hash",
            verify.PASS,
            f"the bundle's bytes hash to {digest}, as recorded at publication",
        )
    else:
        result.add(
            "stored_hash",
            verify.FAIL,
            f"the bundle's bytes hash to {digest}, not {report.bundle_sha256} recorded at publication",
        )
    try:
        bundle = verify.parse_json_bytes(text, "bundle")
        previous = (
            verify.parse_json_bytes(report.previous.bundle.encode("utf-8"), "previous")
            if report.previous is not None
            else None
        )
    except verify.InputError as e:
        result.add("bundle_json", verify.FAIL, str(e))
        return Verification("failed", result.checks)
    trusted = verify.TrustedKey(
        bytes(key.public_key), key.fingerprint, "the organisation's published key", key.name
    )
    verify.verify_bundle(bundle, previous=previous, key=trusted, report=result)
    status = {verify.VERIFIED: "verified", verify.PARTLY_CHECKED: "partly"}.get(
        result.verdict, "failed"
    )
    return Verification(status, result.checks)


# --- privacy screen for free text ----------------------------------------------------------


class PersonalDataScreen:
    """Decides whether a voucher summary (free text typed by a treasurer) may appear in a
    public output (the report page, its PDF and CSV): not if ``core.privacy`` finds a
    resident's name, a phone or ID number or a room address in it, however it is typed.
    Posting refuses such summaries (``core.privacy.check_free_text``); this screen covers the
    records posted before that rule, whose signed leaves cannot change."""

    def __init__(self, community_id: int):
        self.terms = terms_for_community(community_id)

    def is_safe(self, text: str) -> bool:
        return not find_personal_data(text, self.terms)

    def public_text(self, text: str | None) -> str | None:
        """``text`` if it may be shown, else None (withheld)."""
        text = text or ""
        return text if self.is_safe(text) else None


WITHHELD = _l("(summary withheld: it may contain personal data)")


def csv_summary_screen(community_id: int):
    """What the public CSV shows of a summary: the summary, or the page's withheld note."""
    screen = PersonalDataScreen(community_id)

    def summary_text(text: str | None) -> str:
        shown = screen.public_text(text)
        return str(WITHHELD) if shown is None else shown

    return summary_text


# --- what a report page shows --------------------------------------------------------------


@dataclass
class StatementLineView:
    label: str
    line_no: int | None
    amount: int | None
    kind: str
    memo: bool
    indent: int


@dataclass
class StatementView:
    key: str
    title: str
    form_code: str | None
    amount_heading: str
    parts: list[list[StatementLineView]]


@dataclass
class RecordView:
    index: int
    number: str
    date: str
    kind: str
    summary: str | None  # None: withheld by the privacy screen
    total: int


def statement_views(bundle: dict) -> list[StatementView]:
    """The bundle's statements in the official line layout; a balance sheet (账户式) in its
    two halves, assets first, which stack on a phone."""
    en = _english()
    out = []
    for st in bundle.get("statements", []):
        lines = [
            StatementLineView(
                label=(ln.get("label_en") if en and ln.get("label_en") else ln.get("label_zh"))
                or ln["key"],
                line_no=ln.get("line_no"),
                amount=None if ln.get("kind") == "heading" else ln.get("amount"),
                kind=ln.get("kind", "item"),
                memo=bool(ln.get("memo")),
                indent=min(int(ln.get("indent") or 0), 3),
            )
            for ln in st["lines"]
        ]
        sides = [ln.get("side") for ln in st["lines"]]
        if st["statement"] == "balance_sheet" and "right" in sides:
            parts = [
                [v for v, s in zip(lines, sides, strict=True) if s != "right"],
                [v for v, s in zip(lines, sides, strict=True) if s == "right"],
            ]
        else:
            parts = [lines]
        heading = _l("Closing balance") if st["statement"] == "balance_sheet" else _l("This period")
        out.append(
            StatementView(
                key=st["statement"],
                title=(st.get("title_en") if en and st.get("title_en") else st.get("title_zh"))
                or st["statement"],
                form_code=st.get("form_code"),
                amount_heading=str(heading),
                parts=parts,
            )
        )
    return out


def record_views(bundle: dict, screen: PersonalDataScreen) -> list[RecordView]:
    """The records the report's figures come from: number, date, summary, total debit."""
    unit = _base_unit(bundle)
    out = []
    for r in disclosure.used_records(bundle):
        summary = r.get("summary") or ""
        out.append(
            RecordView(
                index=r["index"],
                number=r.get("number") or "",
                date=r["date"],
                kind=r.get("kind", "normal"),
                summary=screen.public_text(summary),
                total=sum(ln["debit"] for ln in r["lines"] if ln["unit"] == unit),
            )
        )
    return out


def _base_unit(bundle: dict) -> str:
    units = [e["unit"] for e in bundle.get("closing_balances", [])]
    return "CNY" if not units or "CNY" in units else units[0]


@dataclass
class Overview:
    """The resident's questions, first: what came in, what went out, what is left, against
    the previous report; the largest items of each (by account, never by person)."""

    income: int
    spending: int
    left: int
    previous: tuple[int, int, int] | None
    top_income: list[tuple[str, int]]
    top_spending: list[tuple[str, int]]


def _flows(bundle: dict) -> tuple[dict[str, int], dict[str, int]]:
    """Income and spending of the period by account (base unit; closing entries left out)."""
    unit = _base_unit(bundle)
    types = {a["code"]: a.get("type") for a in bundle.get("accounts", [])}
    income: dict[str, int] = {}
    spending: dict[str, int] = {}
    for r in disclosure.used_records(bundle):
        if r.get("kind") == "closing":
            continue
        for ln in r["lines"]:
            if ln["unit"] != unit:
                continue
            kind = types.get(ln["account"])
            if kind == "revenue":
                income[ln["account"]] = income.get(ln["account"], 0) + ln["credit"] - ln["debit"]
            elif kind in ("expense", "cost"):
                spending[ln["account"]] = (
                    spending.get(ln["account"], 0) + ln["debit"] - ln["credit"]
                )
    return income, spending


def overview(bundle: dict, previous: tuple[int, int] | None) -> Overview:
    """``previous``: (income, spending) of the report before (``report_figures``), if any."""
    en = _english()
    names = {
        a["code"]: (a.get("name_en") if en and a.get("name_en") else a.get("name_zh")) or a["code"]
        for a in bundle.get("accounts", [])
    }
    income, spending = _flows(bundle)

    def top(flows: dict[str, int]) -> list[tuple[str, int]]:
        items = sorted(((v, k) for k, v in flows.items() if v > 0), reverse=True)[:5]
        return [(names.get(k, k), v) for v, k in items]

    prev = None if previous is None else (previous[0], previous[1], previous[0] - previous[1])
    total_in, total_out = sum(income.values()), sum(spending.values())
    return Overview(total_in, total_out, total_in - total_out, prev, top(income), top(spending))


def report_context(report: DisclosureReport) -> dict:
    """Everything the report page and the report PDF show, computed from the stored bundle."""
    bundle = json.loads(report.bundle)
    organisation = db.session.get(
        Organisation, db.session.get_one(Book, report.book_id).organisation_id
    )
    key = report.checkpoint.key
    return {
        "report": report,
        "bundle": bundle,
        "organisation": organisation,
        "community": db.session.get(Community, report.community_id),
        "checkpoint": report.checkpoint,
        "key": key,
        "unit": _base_unit(bundle),
        "statements": statement_views(bundle),
        "records": record_views(bundle, PersonalDataScreen(report.community_id)),
        "record_kind_labels": RECORD_KIND_LABELS,
        "overview": overview(
            bundle, report_figures(report.previous) if report.previous is not None else None
        ),
        "publisher_note": report.publisher_note,
        "sanity_warnings": [
            w.text() for w in public_checks.stored_warnings(report.sanity_warnings)
        ],
    }


# --- public pages --------------------------------------------------------------------------


def _published_marker(conn: sa.Connection) -> tuple:
    """The newest report and checkpoint anywhere: a public page kept by a server process
    (core/pagecache.py) is shown only while these are what they were when it was rendered."""
    newest = sa.select(
        sa.select(sa.func.max(DisclosureReport.id)).scalar_subquery(),
        sa.select(sa.func.max(Checkpoint.id)).scalar_subquery(),
    )
    return tuple(conn.execute(newest).one())


pagecache.FRESHNESS.append(_published_marker)


@public_bp.after_request
def _revalidate(response: Response) -> Response:
    """Public pages carry an ETag (a hash of the page as sent) and ``Cache-Control: public,
    no-cache``: a browser or a proxy keeps the page and asks again each time, and an unchanged
    page costs a 304 with no body (a slow connection downloads it once). The page depends on
    the language chosen (Accept-Language or the cookie), hence ``Vary``. A signed-in visitor's
    pages are never cached (core.app sets no-store)."""
    if (
        request.method not in ("GET", "HEAD")
        or response.status_code != 200
        or response.direct_passthrough
        or _signed_in()
        or "Set-Cookie" in response.headers
    ):
        return response
    if not response.get_etag()[0]:
        response.add_etag()
    response.headers["Cache-Control"] = "public, no-cache"
    response.vary.update(("Accept-Language", "Cookie"))
    response.make_conditional(request)
    return response


def _signed_in() -> bool:
    return bool(current_user and current_user.is_authenticated)


def _public_template(name: str, **context) -> str:
    return render_template(name, verify_url=verify_url, kind_label=kind_label, **context)


@public_bp.get("/")
def index():
    """Every community with its organisations (no login)."""
    communities = db.session.scalars(
        sa.select(Community).order_by(Community.name, Community.id)
    ).all()
    return _public_template("public/index.html", communities=communities)


def _books_by_org(org_ids: list[int]) -> dict[int, Book]:
    if not org_ids:
        return {}
    books = db.session.scalars(sa.select(Book).where(Book.organisation_id.in_(org_ids)))
    return {b.organisation_id: b for b in books}


# Income and spending of a published report, by its bundle's hash (a published bundle never
# changes): the trend charts read every report of a book, and parse each bundle only once.
_FIGURES: dict[str, tuple[int, int]] = {}


def report_figures(r: DisclosureReport) -> tuple[int, int]:
    """(income, spending) of the report's period, in fen of its base unit."""
    hit = _FIGURES.get(r.bundle_sha256)
    if hit is None:
        income, spending = _flows(json.loads(r.bundle))
        hit = (sum(income.values()), sum(spending.values()))
        if len(_FIGURES) > 4096:
            _FIGURES.clear()
        _FIGURES[r.bundle_sha256] = hit
    return hit


@dataclass
class Headline:
    """An organisation's figures for the public pages: its latest report's income, spending
    and what is left against the report before, and the trend of the last reports."""

    report: DisclosureReport
    income: int
    spending: int
    previous: tuple[int, int] | None
    points: list[charts.Point]

    @property
    def left(self) -> int:
        return self.income - self.spending

    @property
    def previous_left(self) -> int | None:
        return None if self.previous is None else self.previous[0] - self.previous[1]


TREND_REPORTS = 12


def headline(reports: list[DisclosureReport]) -> Headline | None:
    """``reports`` oldest first; None before the first report."""
    if not reports:
        return None
    recent = reports[-TREND_REPORTS:]
    figures = [report_figures(r) for r in recent]
    points = [charts.Point(r.label, i, s) for r, (i, s) in zip(recent, figures, strict=True)]
    latest = reports[-1]
    income, spending = figures[-1]
    previous = figures[-2] if len(figures) > 1 else None
    return Headline(latest, income, spending, previous, points)


def trend_chart(h: Headline, *, small: bool = False) -> Markup:
    return charts.bars(
        h.points,
        title=str(
            _l(
                "Income and spending of the last %(n)d reports, oldest first",
                n=len(h.points),
            )
        ),
        legend=(str(_l("Came in")), str(_l("Went out"))),
        small=small,
    )


@public_bp.get("/c/<string(maxlength=64):slug>")
def community(slug: str):
    """A community's organisations, each with its latest figures, trend and report."""
    c = (
        None
        if text_problem(slug)  # NUL: no slug has one, and PostgreSQL refuses the query
        else db.session.scalar(sa.select(Community).where(Community.slug == slug))
    )
    if c is None:
        raise NotFound(_l("No such community."))
    orgs = db.session.scalars(
        sa.select(Organisation).where(Organisation.community_id == c.id).order_by(Organisation.id)
    ).all()
    books = _books_by_org([o.id for o in orgs])
    headlines = {
        o.id: headline(disclosure.reports_of(books[o.id].id)) if o.id in books else None
        for o in orgs
    }
    return _public_template(
        "public/community.html",
        community=c,
        organisations=orgs,
        headlines=headlines,
        trend_chart=trend_chart,
    )


@public_bp.get("/o/<id:org_id>")
def organisation(org_id: int):
    """The organisation for a resident: its latest figures and trend, its reports with their
    verification status, and each domain's public summary. Keys and checkpoints are on the
    "how to check" page (``check``)."""
    org = get_organisation(org_id)
    book = _books_by_org([org.id]).get(org.id)
    reports = disclosure.reports_of(book.id) if book else []
    too_large = str(_l("Too large to check on this page: open the report."))
    rows = [
        (
            r,
            verify_report(r, max_chars=LIST_VERIFY_MAX_CHARS, too_large=too_large),
            report_figures(r),
        )
        for r in reversed(reports)
    ]
    return _public_template(
        "public/organisation.html",
        organisation=org,
        community=org.community,
        book=book,
        rows=rows,
        head=headline(reports),
        trend_chart=trend_chart,
    )


@public_bp.get("/o/<id:org_id>/check")
def check(org_id: int):
    """How to check the organisation's reports yourself: its signing key and fingerprint (to
    compare with the one posted at the community office), its log's name, the verifiers and
    the signed checkpoint history."""
    org = get_organisation(org_id)
    book = _books_by_org([org.id]).get(org.id)
    key = keys.current_key(org.id)
    history = list(reversed(checkpoint_history(book.id))) if book else []
    return _public_template(
        "public/check.html",
        organisation=org,
        community=org.community,
        book=book,
        key=key,
        key_b64=keys.public_key_json(key)["ed25519"] if key else None,
        checkpoints=history,
        roots={cp.id: b64(cp.root) for cp in history},
    )


@public_bp.get("/glossary")
def glossary_page():
    """Every accounting word the public pages explain, in one place."""
    return _public_template("public/glossary.html", glossary_terms=glossary.TERMS)


@public_bp.get("/o/<id:org_id>/checkpoints/<int(min=0, max=9223372036854775807):size>.txt")
def checkpoint_note(org_id: int, size: int):
    """One signed checkpoint, byte for byte (C2SP signed note)."""
    org = get_organisation(org_id)
    book = _books_by_org([org.id]).get(org.id)
    cp = (
        None
        if book is None
        else db.session.scalar(
            sa.select(Checkpoint).where(Checkpoint.book_id == book.id, Checkpoint.size == size)
        )
    )
    if cp is None:
        raise NotFound(
            _l("No checkpoint of size %(size)d has been signed for this book.", size=size)
        )
    return Response(cp.note, mimetype="text/plain")


@public_bp.get("/r/<id:report_id>")
def report(report_id: int):
    """A published report: statements, records, checkpoint, verification, downloads."""
    r = disclosure.get_report(report_id)
    context = report_context(r)
    return _public_template(
        "public/report.html",
        verification=verify_report(r, max_chars=PAGE_VERIFY_MAX_CHARS),
        bundle_url=bundle_url(r),
        csv_url=csv_url(r),
        **context,
    )


def pdf_cache_dir() -> Path:
    """Where rendered report PDFs are kept: a cache (DESIGN.md §6: local files only for keys
    and caches), ``COMMONS_PDF_CACHE`` or the instance folder's ``cache/report-pdf``."""
    configured = current_app.config.get("REPORT_PDF_CACHE")
    return Path(configured) if configured else Path(current_app.instance_path) / "cache/report-pdf"


def report_pdf_bytes(r: DisclosureReport) -> bytes:
    """The report's PDF in the request's language, rendered on its first request and stored:
    a published report never changes (the file name carries the bundle's hash), so later
    requests read the file instead of rendering again (about a second each)."""
    locale = "en" if _english() else "zh"
    path = pdf_cache_dir() / f"report-{r.id}-{r.bundle_sha256[:16]}-{locale}.pdf"
    try:
        return path.read_bytes()
    except OSError:
        pass
    context = report_context(r)
    body = pdf.render_pdf(
        render_template(
            "pdf/report.html",
            verification=verify_report(r, max_chars=PAGE_VERIFY_MAX_CHARS),
            bundle_url=bundle_url(r),
            verify_url=verify_url,
            kind_label=kind_label,
            generated_at=dt.datetime.now(dt.UTC),
            **context,
        )
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(body)
        os.replace(tmp, path)  # atomic: a concurrent reader sees the whole file or none
    except OSError:
        current_app.logger.warning("could not store the report PDF %s", path)
    return body


@public_bp.get("/r/<id:report_id>.pdf")
def report_pdf(report_id: int):
    """The report as an A4 PDF, rendered once and stored. Every export is recorded
    (DOMAIN.md DP-7)."""
    r = disclosure.get_report(report_id)
    body = report_pdf_bytes(r)
    organisation = db.session.get_one(
        Organisation, db.session.get_one(Book, r.book_id).organisation_id
    )
    _record_export(
        "export report pdf",
        organisation,
        target=f"report:{r.id}",
        detail={"report_id": r.id, "bundle_sha256": r.bundle_sha256, "period": r.label},
    )
    tag = f"{r.bundle_sha256[:32]}-{'en' if _english() else 'zh'}"  # one stored file per tag
    return download(
        body, disclosure.bundle_filename(r, "pdf"), "application/pdf", inline=True, etag=tag
    )


# --- receipts (login) ----------------------------------------------------------------------


def _record_export(action: str, organisation: Organisation, *, target: str, detail: dict) -> None:
    """An audit event for a document that left the system: who, when, which snapshot.
    Safe (GET) requests are not audited by default, so the export says so itself; the
    request's commit stores it with the answer."""
    user = current_user if current_user and current_user.is_authenticated else None
    record(
        action,
        "ok",
        user=user,
        organisation_id=organisation.id,
        community_id=organisation.community_id,
        target=target,
        detail=detail,
        remote_addr=request.remote_addr,
        user_agent=request.headers.get("User-Agent"),
    )


@dataclass
class ReceiptView:
    organisation: Organisation
    voucher: Voucher
    resident: Resident
    receipt: dict
    lines: list[VoucherLine]

    @property
    def amount(self) -> int:
        """What the resident paid or received: their lines' debit total, else credit total."""
        debit = sum(ln.debit for ln in self.lines)
        return debit or sum(ln.credit for ln in self.lines)

    @property
    def checkpoint_size(self) -> int:
        return int(self.receipt["checkpoint"].split("\n")[1])

    @property
    def checkpoint_root(self) -> str:
        return self.receipt["checkpoint"].split("\n")[2]


def _receipt(org_id: int, voucher_id: int, resident_id: int) -> ReceiptView:
    org = get_organisation(org_id)
    resident = receipts.authorize_receipt(org, resident_id, authenticated_user())
    voucher = get_voucher(book_for(org), voucher_id)
    receipt = receipts.build_receipt(voucher, resident)
    lines = [ln for ln in voucher.lines if ln.resident_id == resident.id]
    return ReceiptView(org, voucher, resident, receipt, lines)


def _receipt_urls(v: ReceiptView, *, external: bool = False) -> dict[str, str]:
    args: dict[str, Any] = {
        "org_id": v.organisation.id,
        "voucher_id": v.voucher.id,
        "resident_id": v.resident.id,
    }
    return {
        ext: url_for(f"receipts.receipt_{ext}", _external=external, **args)
        for ext in ("json", "pdf", "svg")
    }


def receipt_check_url(v: ReceiptView) -> str:
    """What the receipt's QR code holds: the public "check my receipt" page with the receipt
    itself in the fragment, so an anonymous resident's phone checks it without a login."""
    try:
        page = url_for("transparency.receipt_check", _external=True)
    except BuildError:  # the verifier pages' blueprint is not registered in this app
        page = url_for("public.index", _external=True).removesuffix("/public/") + "/verify/receipt"
    return page + "#" + receipts.fragment(v.receipt)


def _account_names(book_id: int) -> dict[str, str]:
    en = _english()
    return {
        a.code: (a.name_en if en and a.name_en else a.name_zh)
        for a in db.session.scalars(sa.select(Account).where(Account.book_id == book_id))
    }


def _receipt_context(v: ReceiptView, *, with_qr: bool = False) -> dict:
    return {
        "v": v,
        "record": v.receipt["record"],
        "key": v.receipt["public_key"],
        "urls": _receipt_urls(v),
        "qr_data_uri": pdf.qr_data_uri(receipt_check_url(v)) if with_qr else None,
        "account_names": _account_names(v.voucher.book_id),
        "receipt_filename": receipts.receipt_filename(v.voucher, v.resident),
        "check_url": receipt_check_url(v),
        "verify_url": verify_url,
    }


@receipts_bp.get("/books/<id:org_id>/vouchers/<id:voucher_id>/receipt/<id:resident_id>")
@login_required
def receipt_page(org_id: int, voucher_id: int, resident_id: int):
    """The receipt with its downloads, for staff or the resident themself. A GET never
    signs: before a checkpoint covers the voucher, the page says so and offers a button
    (a POST) that signs one."""
    try:
        v = _receipt(org_id, voucher_id, resident_id)
    except receipts.NotYetCovered as e:
        return render_template(
            "transparency/receipt_pending.html",
            message=e.message,
            sign_url=url_for(
                "receipts.receipt_sign",
                org_id=org_id,
                voucher_id=voucher_id,
                resident_id=resident_id,
            ),
        )
    return render_template("transparency/receipt.html", **_receipt_context(v))


@receipts_bp.post("/books/<id:org_id>/vouchers/<id:voucher_id>/receipt/<id:resident_id>/checkpoint")
@login_required
def receipt_sign(org_id: int, voucher_id: int, resident_id: int):
    """Sign a checkpoint covering the voucher (whoever may see the receipt), then show it.
    Only for a voucher that names the resident: a resident may not have any book of their
    community signed through their own resident id."""
    org = get_organisation(org_id)
    resident = receipts.authorize_receipt(org, resident_id, authenticated_user())
    receipts.build_receipt(get_voucher(book_for(org), voucher_id), resident, sign=True)
    return redirect(
        url_for(
            "receipts.receipt_page", org_id=org_id, voucher_id=voucher_id, resident_id=resident_id
        ),
        303,
    )


@receipts_bp.get("/books/<id:org_id>/vouchers/<id:voucher_id>/receipt/<id:resident_id>.json")
@login_required
def receipt_json(org_id: int, voucher_id: int, resident_id: int):
    v = _receipt(org_id, voucher_id, resident_id)
    text = receipts.receipt_text(v.receipt)
    _record_export(
        "export receipt json",
        v.organisation,
        target=f"voucher:{v.voucher.id}",
        detail=_receipt_audit(v, text),
    )
    return download(
        text, receipts.receipt_filename(v.voucher, v.resident), "application/json", private=True
    )


@receipts_bp.get("/books/<id:org_id>/vouchers/<id:voucher_id>/receipt/<id:resident_id>.pdf")
@login_required
def receipt_pdf(org_id: int, voucher_id: int, resident_id: int):
    v = _receipt(org_id, voucher_id, resident_id)
    body = pdf.render_pdf(
        render_template(
            "pdf/receipt.html",
            generated_at=dt.datetime.now(dt.UTC),
            **_receipt_context(v, with_qr=True),
        )
    )
    _record_export(
        "export receipt pdf",
        v.organisation,
        target=f"voucher:{v.voucher.id}",
        detail=_receipt_audit(v, receipts.receipt_text(v.receipt)),
    )
    filename = receipts.receipt_filename(v.voucher, v.resident).removesuffix(".json") + ".pdf"
    return download(body, filename, "application/pdf", inline=True, private=True)


@receipts_bp.get("/books/<id:org_id>/vouchers/<id:voucher_id>/receipt/<id:resident_id>.svg")
@login_required
def receipt_svg(org_id: int, voucher_id: int, resident_id: int):
    """A QR code that opens "check my receipt" with this receipt, to print or show on a phone."""
    v = _receipt(org_id, voucher_id, resident_id)
    return Response(pdf.qr_svg(receipt_check_url(v)), mimetype="image/svg+xml")


def _receipt_audit(v: ReceiptView, text: str) -> dict:
    return {
        "voucher": v.voucher.id,
        "resident": v.resident.id,
        "index": v.voucher.log_index,
        "checkpoint_size": v.checkpoint_size,
        "receipt_sha256": hashlib.sha256(text.encode()).hexdigest(),
    }


@receipts_bp.get("/receipts")
@login_required
def my_receipts():
    """The logged-in resident's own posted vouchers, each with its receipt."""
    user = authenticated_user()
    mine = db.session.scalars(sa.select(Resident).where(Resident.user_id == user.id)).all()
    rows = []
    if mine:
        by_id: dict[int | None, Resident] = {r.id: r for r in mine}
        found = db.session.execute(
            sa.select(Voucher, VoucherLine.resident_id, Book.organisation_id)
            .join(VoucherLine, VoucherLine.voucher_id == Voucher.id)
            .join(Book, Book.id == Voucher.book_id)
            .where(
                VoucherLine.resident_id.in_(list(by_id)),
                Voucher.status == VoucherStatus.POSTED.value,
            )
            .distinct()
            .order_by(Voucher.date.desc(), Voucher.id.desc())
        ).all()
        orgs = {
            o.id: o
            for o in db.session.scalars(
                sa.select(Organisation).where(
                    Organisation.id.in_({org_id for _v, _r, org_id in found} or {-1})
                )
            )
        }
        rows = [(v, by_id[rid], orgs[org_id]) for v, rid, org_id in found]
    return render_template("transparency/receipts.html", rows=rows, residents=mine)


__all__ = [
    "PersonalDataScreen",
    "Verification",
    "grouped_hex",
    "public_bp",
    "receipts_bp",
    "report_context",
    "statement_amount",
    "verify_report",
    "verify_url",
]
