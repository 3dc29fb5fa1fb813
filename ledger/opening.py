"""Opening balances (期初余额) for a book that starts mid-life (建账 → 期初余额录入 → 试算平衡).

The openings are ONE voucher of kind ``opening`` (``VoucherKind.OPENING``), dated the first
day of the book's first month unless another date is given. It goes through the ordinary life
cycle of ``ledger.services`` (create → submit → approve by a second person → post), so it is
numbered, in the book's Merkle log and verifiable like any voucher; its public record carries
``"kind": "opening"``, so a disclosure report can tell balances brought forward from money
earned.

One line per account, fund, unit and counterparty (a resident or an organisation on the line,
for receivables, shareholders, points holders …): a debit line for a debit balance, a credit
line for a credit balance.

A start inside a year (年中建账): revenue and expense accounts carry the year-to-date movements
so that the year's income statement is right. A row of a revenue or expense account may give
both 累计借方 and 累计贷方; they become two lines (one debit, one credit) of the same account on
the opening voucher, so the year's movements and its net are both kept. Any other account takes
its balance on one side only. At the year-end closing these lines are closed with the rest of
the year's movements (they are ordinary postings of the year).

Rules (each refusal is a translated error and stores nothing):
- the openings balance per unit (试算平衡: debits = credits); the difference is named;
- no opening balance on a parent account that has sub-accounts;
- openings are refused once the book has its first ordinary posting, except to replace
  openings that were reversed while their month is still open (a correction is a reversal of
  the posted openings, ``reverse_opening``, before the first month closes);
- a book whose ``opening_state`` is ``required`` posts nothing else before its openings
  (``check_can_post``, called by the posting engine). ``none`` (the default of existing
  books) means the book starts from zero; ``posted`` that the openings are in.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from core.auth import require_role
from core.db import db
from core.errors import Conflict, InvalidInput, NotFound
from core.models import Role, User
from core.months import Month

from . import services as svc
from .amounts import MAX_LINE_AMOUNT, format_minor
from .models import (
    Account,
    AccountPeriodBalance,
    Book,
    BookPolicyChange,
    Fund,
    Voucher,
    VoucherKind,
    VoucherLine,
    VoucherStatus,
)

REQUIRED = "required"
POSTED = "posted"
NONE = "none"
OPENING_STATES = (REQUIRED, POSTED, NONE)

SUMMARY = "期初余额"
SOURCE = "opening"
# Revenue and expense rows may carry both 累计借方 and 累计贷方 (a start inside a year).
YTD_TYPES = ("revenue", "expense")
ORDINARY_KINDS = (VoucherKind.NORMAL.value, VoucherKind.CLOSING.value)


@dataclass(frozen=True)
class OpeningRow:
    """One row of the grid or of an imported 科目余额表, amounts as typed (text)."""

    account: str
    debit: str = ""
    credit: str = ""
    unit: str = ""
    fund: str = ""
    resident_id: int | None = None
    counterparty_org_id: int | None = None
    line: int | None = None  # the row's number as the treasurer sees it (file line, grid row)


# --- amounts ----------------------------------------------------------------------------------

# ASCII digits, optionally with thousands commas, and a decimal part. No sign, no exponent,
# no full-width digits: Decimal alone would take "1e3" and "１２".
_AMOUNT = re.compile(r"^(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]+)?$")


def parse_opening_amount(text, exponent: int = 2) -> int:
    """The exact minor units of an amount typed as text ("1,234.56"); blank is zero."""
    if text is None:
        return 0
    if not isinstance(text, str):
        raise InvalidInput(_l('Give amounts as text such as "1234.56".'))
    t = text.strip()
    if not t:
        return 0
    if t.startswith("-"):
        raise InvalidInput(
            _l(
                "%(value)s: amounts are never negative; put a balance on its side (debit or credit).",
                value=t[:40],
            )
        )
    if not _AMOUNT.match(t):
        raise InvalidInput(
            _l(
                "%(value)s is not an amount: use ASCII digits and a decimal point, like 1234.56.",
                value=t[:40],
            )
        )
    d = Decimal(t.replace(",", ""))
    scaled = d.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise InvalidInput(
            _l("%(value)s has more than %(n)d decimal places.", value=t[:40], n=exponent)
        )
    minor = int(scaled)
    if minor > MAX_LINE_AMOUNT:
        raise InvalidInput(_l("%(value)s is too large for one line.", value=t[:40]))
    return minor


# --- the state of a book's openings -----------------------------------------------------------


def _openings(book: Book, *, reversed_: bool):
    rev = aliased(Voucher)
    reversal_posted = sa.exists().where(
        rev.reverses_id == Voucher.id, rev.status == VoucherStatus.POSTED.value
    )
    return sa.select(Voucher).where(
        Voucher.book_id == book.id,
        Voucher.kind == VoucherKind.OPENING.value,
        Voucher.status == VoucherStatus.POSTED.value,
        reversal_posted if reversed_ else ~reversal_posted,
    )


def posted_opening(book: Book) -> Voucher | None:
    """The book's live openings: posted and not reversed."""
    return db.session.scalar(_openings(book, reversed_=False).order_by(Voucher.id.desc()).limit(1))


def reversed_opening(book: Book) -> Voucher | None:
    """The latest openings that were posted and then reversed (a correction in progress)."""
    return db.session.scalar(_openings(book, reversed_=True).order_by(Voucher.id.desc()).limit(1))


def opening_draft(book: Book) -> Voucher | None:
    """The openings not yet posted (draft, submitted or approved), if any."""
    return db.session.scalar(
        sa.select(Voucher)
        .where(
            Voucher.book_id == book.id,
            Voucher.kind == VoucherKind.OPENING.value,
            Voucher.status.in_(svc.UNPOSTED),
        )
        .order_by(Voucher.id.desc())
        .limit(1)
    )


def has_ordinary_posting(book: Book) -> bool:
    return (
        db.session.scalar(
            sa.select(Voucher.id)
            .where(
                Voucher.book_id == book.id,
                Voucher.status == VoucherStatus.POSTED.value,
                Voucher.kind.in_(ORDINARY_KINDS),
            )
            .limit(1)
        )
        is not None
    )


def default_date(book: Book) -> dt.date:
    """The first day of the book's first month (the month it was created in)."""
    created = book.created_at or dt.datetime.now()
    return Month.of(created.date()).first_day


def _closed(book: Book, d: dt.date) -> bool:
    return book.closed_through is not None and Month.of(d).key <= book.closed_through


def _check_openings_allowed(book: Book) -> Voucher | None:
    """Raise unless openings may be entered now; return the reversed openings they replace."""
    live = posted_opening(book)
    if live is not None:
        raise Conflict(
            _l(
                "The opening balances are posted (%(number)s). To correct them, reverse them first.",
                number=live.number,
            )
        )
    replaced = reversed_opening(book)
    if replaced is not None and not _closed(book, replaced.date):
        return replaced
    if has_ordinary_posting(book):
        raise Conflict(
            _l(
                "This book already has postings: opening balances are entered before the first posting."
            )
        )
    return None


def check_can_post(book: Book, kind, *, date: dt.date | None = None) -> None:
    """Refuse (Conflict) a post that the book's openings forbid. The posting engine calls this
    for every voucher before it takes the book's head (``date``: the voucher's date, optional).

    - openings: not while live openings are posted, nor after the first ordinary posting
      (unless they replace reversed openings whose month is open);
    - anything else: not before the openings when the book requires them, and (given
      ``date``) not dated before the openings of a book that has them. (``reverse_opening``
      puts a book back to ``required`` until corrected openings are posted; a reversal made
      elsewhere leaves the state as it is.)

    A book that starts from zero (``none``, every existing book) costs no query."""
    kind = VoucherKind(kind)
    if kind == VoucherKind.OPENING:
        _check_openings_allowed(book)
        return
    if kind == VoucherKind.REVERSAL or book.opening_state == NONE:
        return  # a reversal reverses something already posted
    if book.opening_state == REQUIRED and posted_opening(book) is None:
        raise Conflict(
            _l(
                "Post the opening balances (期初余额) first: this book starts from them. An admin may declare that it starts from zero instead."
            )
        )
    if date is not None:
        start = db.session.scalar(
            sa.select(Voucher.date)
            .where(
                Voucher.book_id == book.id,
                Voucher.status == VoucherStatus.POSTED.value,
                Voucher.kind == VoucherKind.OPENING.value,
            )
            .order_by(Voucher.date)
            .limit(1)
        )
        if start is not None and date < start:
            raise Conflict(
                _l(
                    "The book starts on %(start)s with its opening balances: nothing is posted before that date.",
                    start=start.isoformat(),
                )
            )


def set_opening_state(book: Book, state: str, *, actor: User, reason: str = "") -> Book:
    """An admin's choice: the book starts from openings (``required``) or from zero (``none``).
    Onboarding sets ``required`` on new books."""
    require_role(svc.parent_org(book.id), Role.ADMIN, user=actor)
    if state not in (REQUIRED, NONE):
        raise InvalidInput(_l("A book either requires opening balances or starts from zero."))
    if state == REQUIRED and has_ordinary_posting(book) and posted_opening(book) is None:
        raise Conflict(
            _l("This book already has postings, so it cannot start requiring opening balances.")
        )
    if state == REQUIRED and posted_opening(book) is not None:
        state = POSTED
    book.opening_state = state
    db.session.add(
        BookPolicyChange(
            community_id=book.community_id,
            book_id=book.id,
            setting="opening_state",
            value=state,
            reason=(reason or "").strip() or state,
            changed_by_id=actor.id,
        )
    )
    db.session.flush()
    return book


# --- reading rows -----------------------------------------------------------------------------


def _key(li: svc.LineInput) -> tuple:
    return (li.account_id, li.fund_id, li.unit, li.resident_id, li.counterparty_org_id)


def read_rows(book: Book, rows: Sequence[OpeningRow]) -> list[svc.LineInput]:
    """Grid or file rows → voucher lines, every problem at once (keys ``rows.N``).

    Blank rows are skipped. Refuses unknown accounts, funds and units, parent accounts that have
    sub-accounts, bad amounts, two sides on a balance-sheet account, a repeated row, and
    openings that do not balance per unit (with the difference)."""
    p = svc.Problems()
    for i, r in enumerate(rows, start=1):
        if any("\x00" in (t or "") for t in (r.account, r.debit, r.credit, r.unit, r.fund)):
            n = r.line or i
            p.add(f"rows.{n}", _l("Row %(n)d: remove the control characters.", n=n))
    p.raise_if_any()
    codes = {r.account.strip() for r in rows if r.account and r.account.strip()}
    accounts = (
        {
            a.code: a
            for a in db.session.scalars(
                sa.select(Account).where(Account.book_id == book.id, Account.code.in_(codes))
            )
        }
        if codes
        else {}
    )
    fund_codes = {r.fund.strip() for r in rows if r.fund and r.fund.strip()}
    funds = (
        {
            f.code: f
            for f in db.session.scalars(
                sa.select(Fund).where(Fund.book_id == book.id, Fund.code.in_(fund_codes))
            )
        }
        if fund_codes
        else {}
    )
    exponents: dict[str, int | None] = {}
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    seen: dict[tuple, int] = {}
    out: list[svc.LineInput] = []
    for i, r in enumerate(rows, start=1):
        n = r.line or i
        key = f"rows.{n}"
        code = (r.account or "").strip()
        if not code and not (r.debit or "").strip() and not (r.credit or "").strip():
            continue
        unit = (r.unit or "").strip() or book.base_unit
        if unit not in exponents:
            exponents[unit] = svc.unit_exponent(book, unit)
        exp = exponents[unit]
        if exp is None:
            p.add(key, _l("Row %(n)d: unknown unit %(unit)s.", n=n, unit=unit[:24]))
            continue
        amounts = []
        for side in (r.debit, r.credit):
            try:
                amounts.append(parse_opening_amount(side, exp))
            except InvalidInput as e:
                p.add(key, _l("Row %(n)d: %(problem)s", n=n, problem=e.message))
        if len(amounts) != 2:
            continue
        debit, credit = amounts
        if debit == 0 and credit == 0:
            continue
        acc = accounts.get(code)
        if acc is None:
            p.add(
                key,
                _l(
                    "Row %(n)d: there is no account %(code)s in this book's chart.",
                    n=n,
                    code=code[:40],
                ),
            )
            continue
        if not acc.active:
            p.add(key, _l("Row %(n)d: account %(code)s is inactive.", n=n, code=acc.code))
            continue
        if acc.has_children:
            p.add(
                key,
                _l(
                    "Row %(n)d: account %(code)s has sub-accounts; enter its opening balance on them, not on %(code)s.",
                    n=n,
                    code=acc.code,
                ),
            )
            continue
        if debit and credit and acc.type not in YTD_TYPES:
            p.add(
                key,
                _l(
                    "Row %(n)d: enter the balance of %(code)s on one side (debit or credit), not both.",
                    n=n,
                    code=acc.code,
                ),
            )
            continue
        fund_id = None
        if r.fund and r.fund.strip():
            fund = funds.get(r.fund.strip())
            if fund is None:
                p.add(key, _l("Row %(n)d: no fund %(code)s in this book.", n=n, code=r.fund[:40]))
                continue
            fund_id = fund.id
        base = svc.LineInput(
            account_id=acc.id,
            unit=unit,
            fund_id=fund_id,
            resident_id=r.resident_id,
            counterparty_org_id=r.counterparty_org_id,
        )
        k = _key(base)
        if k in seen:
            p.add(key, _l("Row %(n)d repeats row %(m)d.", n=n, m=seen[k]))
            continue
        seen[k] = n
        for dr, cr in ((debit, 0), (0, credit)):
            if dr or cr:
                out.append(
                    svc.LineInput(
                        account_id=base.account_id,
                        debit=dr,
                        credit=cr,
                        unit=unit,
                        fund_id=fund_id,
                        resident_id=r.resident_id,
                        counterparty_org_id=r.counterparty_org_id,
                    )
                )
        totals[unit][0] += debit
        totals[unit][1] += credit
    p.raise_if_any()
    if not out:
        raise InvalidInput(
            _l("Enter at least one opening balance."), errors={"rows": [str(_l("Empty."))]}
        )
    for unit, (dr, cr) in sorted(totals.items()):
        if dr != cr:
            p.add("rows", _unbalanced(unit, dr, cr, exponents[unit] or 0))
    p.raise_if_any()
    return out


def _unbalanced(unit: str, dr: int, cr: int, exp: int):
    return _l(
        "The opening balances do not balance (试算不平衡) in %(unit)s: debits %(dr)s, credits %(cr)s, difference %(diff)s.",
        unit=unit,
        dr=format_minor(dr, exp),
        cr=format_minor(cr, exp),
        diff=format_minor(abs(dr - cr), exp),
    )


def totals_of(lines: Iterable) -> dict[str, tuple[int, int]]:
    """Debits and credits per unit (of voucher lines or LineInputs): the trial balance."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for ln in lines:
        sums[ln.unit][0] += ln.debit
        sums[ln.unit][1] += ln.credit
    return {u: (dr, cr) for u, (dr, cr) in sorted(sums.items())}


def rows_of(voucher: Voucher) -> list[OpeningRow]:
    """The voucher's lines as grid rows (a revenue or expense account's two lines, one row)."""
    merged: dict[tuple, list[int]] = {}
    info: dict[tuple, VoucherLine] = {}
    for ln in voucher.lines:
        k = (ln.account_id, ln.fund_id, ln.unit, ln.resident_id, ln.counterparty_org_id)
        s = merged.setdefault(k, [0, 0])
        s[0] += ln.debit
        s[1] += ln.credit
        info[k] = ln
    out = []
    for k, (dr, cr) in merged.items():
        ln = info[k]
        exp = svc.unit_exponent(voucher.book, ln.unit) or 0
        out.append(
            OpeningRow(
                account=ln.account.code,
                debit=format_minor(dr, exp) if dr else "",
                credit=format_minor(cr, exp) if cr else "",
                unit=ln.unit,
                fund=ln.fund_code or "",
                resident_id=ln.resident_id,
                counterparty_org_id=ln.counterparty_org_id,
            )
        )
    return out


# --- the use cases ----------------------------------------------------------------------------


def save_opening(
    book: Book, rows: Sequence[OpeningRow], *, actor: User, date: dt.date | None = None
) -> Voucher:
    """Enter (or replace) the draft of the book's openings. Nothing is stored on any problem."""
    require_role(svc.parent_org(book.id), *svc.PREPARE_ROLES, user=actor)
    replaced = _check_openings_allowed(book)
    lines = read_rows(book, rows)
    draft = opening_draft(book)
    if replaced is not None:
        if date is not None and date != replaced.date:
            raise InvalidInput(
                _l(
                    "Corrected opening balances keep the date of the ones they replace (%(date)s).",
                    date=replaced.date.isoformat(),
                ),
                errors={"date": [str(_l("Wrong date."))]},
            )
        date = replaced.date
    date = date or (draft.date if draft is not None else default_date(book))
    data = svc.VoucherInput(date=date, summary=SUMMARY, lines=lines)
    if draft is None:
        return svc.create_voucher(book, data, actor=actor, source=SOURCE, kind=VoucherKind.OPENING)
    if draft.status != VoucherStatus.DRAFT.value:
        raise Conflict(
            _l("The opening balances are submitted for review; they can be changed once sent back.")
        )
    return svc.update_voucher(draft, data, actor=actor)


def _draft_or_404(book: Book) -> Voucher:
    draft = opening_draft(book)
    if draft is None:
        raise NotFound(_l("There are no opening balances waiting in this book."))
    return draft


def submit_opening(book: Book, *, actor: User) -> Voucher:
    _check_openings_allowed(book)
    return svc.submit_voucher(_draft_or_404(book), actor=actor)


def approve_opening(book: Book, *, actor: User) -> Voucher:
    """By a second person (a reviewer who did not prepare them), like any voucher."""
    return svc.approve_voucher(_draft_or_404(book), actor=actor)


def post_opening(book: Book, *, actor: User) -> Voucher:
    check_can_post(book, VoucherKind.OPENING)
    v = svc.post_voucher(_draft_or_404(book), actor=actor)
    book.opening_state = POSTED
    db.session.flush()
    return v


def reverse_opening(book: Book, *, actor: User) -> Voucher:
    """A correction: a red reversal of the posted openings, on their date, so it can only be
    made while the first month is open. Once the reversal is posted, corrected openings are
    entered; until then nothing else posts in a book that required openings."""
    live = posted_opening(book)
    if live is None:
        raise NotFound(_l("This book has no posted opening balances."))
    if _closed(book, live.date):
        raise Conflict(
            _l(
                "The month of the opening balances (%(period)s) is closed: they can no longer be reversed.",
                period=str(Month.of(live.date)),
            )
        )
    v = svc.reverse_voucher(live, actor=actor, date=live.date)
    if book.opening_state == POSTED:
        book.opening_state = REQUIRED
    db.session.flush()
    return v


# --- import: a 科目余额表 CSV, or another book's closing balances ------------------------------

_COLUMNS = {
    "code": ("科目编码", "科目代码", "编码", "代码", "科目编号", "code", "accountcode", "account"),
    "name": ("科目名称", "名称", "name", "accountname"),
    "debit": (
        "期初借方",
        "期初借方余额",
        "年初借方",
        "借方",
        "借方余额",
        "期末借方",
        "期末借方余额",
        "debit",
    ),
    "credit": (
        "期初贷方",
        "期初贷方余额",
        "年初贷方",
        "贷方",
        "贷方余额",
        "期末贷方",
        "期末贷方余额",
        "credit",
    ),
    "direction": ("方向", "余额方向", "期初方向", "期初余额方向", "借贷方向", "direction"),
    "balance": ("余额", "期初余额", "期末余额", "金额", "balance", "amount"),
    "fund": ("基金", "资金", "基金编码", "fund"),
    "unit": ("币种", "单位", "unit", "currency"),
    "resident_id": ("居民", "resident", "resident_id"),
    "counterparty_org_id": ("往来单位", "counterparty", "counterparty_org_id"),
}
_DEBIT_WORDS = ("借", "debit", "dr")
_CREDIT_WORDS = ("贷", "credit", "cr")
_EVEN_WORDS = ("平", "", "even")


def _norm(header: str) -> str:
    h = re.sub(r"\s+", "", header.replace("\ufeff", "")).lower()
    return re.sub(r"[（(][^）)]*[）)]$", "", h)  # 期初借方（元） → 期初借方


def decode_csv(data: bytes) -> str:
    """UTF-8 with or without BOM, or GB18030 (the desktop packages' default on Windows)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise InvalidInput(
            _l("The file is neither UTF-8 nor GB18030 text."),
            errors={"file": [str(_l("Unreadable."))]},
        ) from None


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    normed = [_norm(h) for h in header]
    for field_name, names in _COLUMNS.items():
        for name in names:  # the first name listed wins (期初 before 期末)
            if name in normed:
                found[field_name] = normed.index(name)
                break
    if "code" not in found or not (
        ("debit" in found and "credit" in found) or ("direction" in found and "balance" in found)
    ):
        raise InvalidInput(
            _l(
                "The file's first row must name the columns: 科目编码 (code), and 借方/贷方 (debit/credit) or 方向/余额 (direction/balance)."
            ),
            errors={"file": [str(_l("Unknown layout."))]},
        )
    return found


def _optional_id(text: str, n: int, p: svc.Problems) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not re.fullmatch(r"[0-9]{1,18}", text):
        p.add(f"rows.{n}", _l("Row %(n)d: %(value)s is not an id.", n=n, value=text[:40]))
        return None
    return int(text)


def read_balance_csv(data: bytes) -> list[OpeningRow]:
    """A 科目余额表 exported by a desktop package (or written by hand) → rows; ``line`` is the
    file's line number. Rows without a code (合计, headings) are skipped."""
    text = decode_csv(data)
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise InvalidInput(_l("The file is empty."), errors={"file": [str(_l("Empty."))]})
    cols = _columns(header)
    p = svc.Problems()

    def cell(row: list[str], name: str) -> str:
        i = cols.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    rows = []
    for row in reader:
        n = reader.line_num
        code = cell(row, "code")
        if not code:
            continue
        if "debit" in cols:
            debit, credit = cell(row, "debit"), cell(row, "credit")
        else:
            side, amount = cell(row, "direction").lower(), cell(row, "balance")
            if side in _DEBIT_WORDS:
                debit, credit = amount, ""
            elif side in _CREDIT_WORDS:
                debit, credit = "", amount
            elif side in _EVEN_WORDS:
                debit = credit = ""
            else:
                p.add(
                    f"rows.{n}",
                    _l("Row %(n)d: the direction %(value)s is not 借 or 贷.", n=n, value=side[:10]),
                )
                continue
        rows.append(
            OpeningRow(
                account=code,
                debit=debit,
                credit=credit,
                unit=cell(row, "unit"),
                fund=cell(row, "fund"),
                resident_id=_optional_id(cell(row, "resident_id"), n, p),
                counterparty_org_id=_optional_id(cell(row, "counterparty_org_id"), n, p),
                line=n,
            )
        )
    p.raise_if_any()
    return rows


def drop_rollups(book: Book, rows: list[OpeningRow]) -> list[OpeningRow]:
    """Exports list parent accounts with the sum of their sub-accounts. A parent's row that
    equals the sum of its sub-accounts' rows in the file is a rollup and is left out; any other
    row on a parent is kept, and refused by ``read_rows``."""
    parents = {
        a.code: a
        for a in db.session.scalars(
            sa.select(Account).where(Account.book_id == book.id, Account.has_children.is_(True))
        )
    }

    def signed(r: OpeningRow) -> int | None:
        try:
            return parse_opening_amount(r.debit) - parse_opening_amount(r.credit)
        except InvalidInput:
            return None

    kept = []
    for r in rows:
        code = r.account.strip()
        if code in parents:
            own = signed(r)
            children = [
                signed(o)
                for o in rows
                if o is not r
                and o.account.strip().startswith(code)
                and o.account.strip() not in parents
                and (o.unit or "") == (r.unit or "")
                and (o.fund or "") == (r.fund or "")
            ]
            known = [c for c in children if c is not None]
            if children and own is not None and len(known) == len(children) and own == sum(known):
                continue
        kept.append(r)
    return kept


def rows_from_book(source: Book, as_of: Month | None = None) -> list[OpeningRow]:
    """Another book's closing balances (through ``as_of``, default: everything posted) per
    account, fund and unit, as rows for this book (matched by account and fund code)."""
    apb = AccountPeriodBalance
    q = (
        sa.select(
            Account.code,
            apb.fund_key,
            apb.unit,
            sa.func.sum(apb.debit - apb.credit).label("balance"),
        )
        .join(Account, Account.id == apb.account_id)
        .where(apb.book_id == source.id)
        .group_by(Account.code, apb.fund_key, apb.unit)
        .order_by(Account.code, apb.fund_key, apb.unit)
    )
    if as_of is not None:
        q = q.where(apb.period_key <= as_of.key)
    fund_codes = dict(
        db.session.execute(sa.select(Fund.id, Fund.code).where(Fund.book_id == source.id)).all()
    )
    rows: list[OpeningRow] = []
    for code, fund_key, unit, balance in db.session.execute(q):
        balance = int(balance or 0)
        if balance == 0:
            continue
        exp = svc.unit_exponent(source, unit) or 0
        amount = format_minor(abs(balance), exp)
        rows.append(
            OpeningRow(
                account=code,
                debit=amount if balance > 0 else "",
                credit=amount if balance < 0 else "",
                unit=unit,
                fund=fund_codes.get(fund_key, ""),
                line=len(rows) + 1,
            )
        )
    return rows
