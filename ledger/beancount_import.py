"""Import a beancount file as a new organisation's book (``flask ledger import-beancount``).

``ledger.plaintext`` reads the file (no database); this module maps the neutral journal onto
our tables through ``ledger.services`` only: an organisation (社区企业) in a community, a book
with its own chart (``chart="CUSTOM"``), one account per beancount account, declared units for
non-currency commodities, and every transaction posted as a voucher (记账凭证) with
``source="import"``.

Mapping decisions
    * Account code = the full beancount name (``Assets:Bank:Checking``), name = its last
      component, type and normal side from the root (Assets → asset/debit, Liabilities →
      liability/credit, Equity → equity/credit, Income → revenue/credit, Expenses →
      expense/debit). Intermediate components that the file never opens become parent
      accounts (``has_children``) so that sub-accounts roll up; they cannot take postings,
      just as beancount refuses postings to an account that was never opened. An opened
      account that also has sub-accounts keeps taking postings if the file posts to it
      directly (beancount allows that); otherwise it is a parent like the others.
    * Each posting becomes a line: positive units → debit, negative → credit. A posting of
      zero moves nothing and is left out. Payee and narration make the summary (摘要),
      trimmed to 300 characters.
    * Transactions are posted in the journal's order: by date, file order within a day
      (beancount's own order), so voucher numbers run with the dates in each month.
    * Accounts the file closes are deactivated after the import (their history stays).
    * Future dates: the book's policy refuses vouchers dated after today, so a file with
      future-dated transactions is refused, each one named by its line. ``allow_future``
      admits them for this import only; the book keeps refusing future dates afterwards.
    * ``balance`` assertions are checked by the reader and not stored; ``note``, ``price`` and
      similar directives are skipped (``PTJournal.ignored``).
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from babel import numbers as babel_numbers
from flask_babel import lazy_gettext as _l

from core.db import db
from core.errors import DomainError
from core.models import KIND_STANDARD, Community, Organisation, OrganisationKind, User

from . import services as svc
from .amounts import currency_exponent, is_iso_currency
from .models import Account, Book
from .plaintext import PlainTextError, PTJournal, PTTransaction, read_beancount

__all__ = [
    "IMPORTS_COMMUNITY",
    "ROOT_TYPES",
    "ImportProblems",
    "ImportResult",
    "PlainTextError",
    "import_file",
    "import_journal",
    "read_file",
]

#: beancount root → (account type, normal side)
ROOT_TYPES: dict[str, tuple[str, str]] = {
    "Assets": ("asset", "debit"),
    "Liabilities": ("liability", "credit"),
    "Equity": ("equity", "credit"),
    "Income": ("revenue", "credit"),
    "Expenses": ("expense", "debit"),
}

#: The community that receives imports when none is named (created on first use).
IMPORTS_COMMUNITY = "imports"

_MAX_CODE = 200  # Account.code
_MAX_UNIT = 24  # BookUnit.code
_MAX_UNIT_EXPONENT = 6  # declare_unit


class ImportProblems(Exception):
    """The import was refused. ``problems`` lists ``(line or None, message)`` with messages
    already rendered in the current language."""

    def __init__(self, problems: Sequence[tuple[int | None, str]]):
        self.problems = sorted(problems, key=lambda p: (p[0] is not None, p[0] or 0))
        super().__init__(
            "; ".join(f"{line}: {msg}" if line else msg for line, msg in self.problems)
        )


@dataclass(frozen=True)
class ImportResult:
    organisation: Organisation
    book: Book
    vouchers: int
    accounts: int


def _iso_exponents() -> dict[str, int]:
    """Our minor units for every currency Babel knows (what ``unit_exponent`` will say)."""
    return {c: currency_exponent(c) for c in babel_numbers.list_currencies()}


def read_file(path: str | Path, display_name: str | None = None) -> PTJournal:
    """Read and check a beancount file; ``PlainTextError`` lists every problem by line."""
    path = Path(path)
    name = display_name or str(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ImportProblems(
            [(line, str(_l("This line is not UTF-8 text: save the file as UTF-8.")))]
        ) from None
    del data  # not the bytes and the text at once while it is read
    return read_beancount(text, name, exponents=_iso_exponents())


def _slug_base(name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]
    return base or "import"


def _unique_slug(community: Community, name: str) -> str:
    base = _slug_base(name)
    taken = set(
        db.session.scalars(
            sa.select(Organisation.slug).where(
                Organisation.community_id == community.id, Organisation.slug.like(f"{base}%")
            )
        )
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _community(slug: str | None) -> Community:
    if slug:
        community = db.session.scalar(sa.select(Community).where(Community.slug == slug))
        if community is None:
            raise ImportProblems([(None, str(_l("There is no community %(slug)s.", slug=slug)))])
        return community
    community = db.session.scalar(sa.select(Community).where(Community.slug == IMPORTS_COMMUNITY))
    if community is None:
        community = Community(name="导入的账簿 Imported books", slug=IMPORTS_COMMUNITY)
        db.session.add(community)
        db.session.flush()
    return community


def _summary(txn: PTTransaction) -> str:
    parts = [p.strip() for p in (txn.payee, txn.narration) if p and p.strip()]
    text = " ".join(parts)[:300].strip()
    return text or str(_l("(no narration)"))


def _first_use(journal: PTJournal, commodity: str) -> int | None:
    for txn in journal.transactions:
        for p in txn.postings:
            if p.commodity == commodity:
                return p.line
    return None


def _declare_units(book: Book, journal: PTJournal) -> list[tuple[int | None, str]]:
    problems: list[tuple[int | None, str]] = []
    for commodity, exponent in sorted(journal.commodities.items()):
        if is_iso_currency(commodity):
            continue  # currencies need no declaration; read_file fixed their exponents
        if len(commodity) > _MAX_UNIT:
            problems.append(
                (
                    _first_use(journal, commodity),
                    str(
                        _l(
                            "The commodity %(code)s is longer than %(n)d characters.",
                            code=commodity,
                            n=_MAX_UNIT,
                        )
                    ),
                )
            )
        elif exponent > _MAX_UNIT_EXPONENT:
            problems.append(
                (
                    _first_use(journal, commodity),
                    str(
                        _l(
                            "%(code)s is used with %(places)d decimal places; a unit may have at most %(n)d.",
                            code=commodity,
                            places=exponent,
                            n=_MAX_UNIT_EXPONENT,
                        )
                    ),
                )
            )
        else:
            svc.declare_unit(book, commodity, commodity, exponent)
    return problems


def _create_accounts(
    book: Book, journal: PTJournal
) -> tuple[dict[str, Account], list[tuple[int | None, str]]]:
    """One account per beancount account plus the parents its name implies."""
    problems: list[tuple[int | None, str]] = []
    opened = {a.name: a for a in journal.accounts}
    posted_directly = {p.account for t in journal.transactions for p in t.postings}
    names: set[str] = set()
    for name in opened:
        parts = name.split(":")
        for k in range(2, len(parts) + 1):
            names.add(":".join(parts[:k]))
    parents = {n.rsplit(":", 1)[0] for n in names if n.count(":") >= 2}
    by_name: dict[str, Account] = {}
    for name in sorted(names, key=lambda n: (n.count(":"), n)):
        if len(name) > _MAX_CODE:
            line = opened[name].line if name in opened else None
            problems.append(
                (
                    line,
                    str(
                        _l(
                            "The account name %(name)s is longer than %(n)d characters.",
                            name=name[:60] + "…",
                            n=_MAX_CODE,
                        )
                    ),
                )
            )
            continue
        root, _, rest = name.partition(":")
        parent_name = name.rsplit(":", 1)[0]
        parent = by_name.get(parent_name) if ":" in parent_name else None
        acc_type, side = ROOT_TYPES[root]
        acc = Account(
            community_id=book.community_id,
            book_id=book.id,
            code=name,
            name_zh=rest.rsplit(":", 1)[-1],
            name_en="",
            type=acc_type,
            normal_side=side,
            parent=parent,
            level=name.count(":"),
            from_standard=False,
            has_children=name in parents and not (name in opened and name in posted_directly),
        )
        db.session.add(acc)
        by_name[name] = acc
    db.session.flush()
    return by_name, problems


def _mirror(cls: type) -> type:
    """A named tuple with the fields (and defaults) of the frozen dataclass ``cls``: the same
    attributes for ``post_imported_vouchers`` and ``_validate``, three times cheaper to build
    (an import makes hundreds of thousands)."""
    fs = dataclasses.fields(cls)
    return collections.namedtuple(
        f"{cls.__name__}Row",
        [f.name for f in fs],
        defaults=[f.default for f in fs if f.default is not dataclasses.MISSING],
    )


_LineRow = _mirror(svc.LineInput)
_VoucherRow = _mirror(svc.VoucherInput)


def _voucher_inputs(
    transactions: Sequence[PTTransaction], accounts: dict[str, Account]
) -> tuple[list, list[list[int]]]:
    """The vouchers (``VoucherInput``-shaped), and for each the file line of each of its lines
    (zero postings left out)."""
    inputs: list = []
    line_numbers: list[list[int]] = []
    ids = {name: acc.id for name, acc in accounts.items()}
    line_row, voucher_row = _LineRow, _VoucherRow
    for txn in transactions:
        lines, where = [], []
        for p in txn.postings:
            units = p.units
            if units > 0:
                lines.append(line_row(ids[p.account], units, 0, p.commodity))
            elif units < 0:
                lines.append(line_row(ids[p.account], 0, -units, p.commodity))
            else:
                continue
            where.append(p.line)
        payee, narration = txn.payee, txn.narration
        summary = (
            f"{payee.strip()} {narration.strip()}" if payee and payee.strip() else narration.strip()
        )
        inputs.append(
            voucher_row(txn.date, summary[:300].strip() if summary else _summary(txn), lines)
        )
        line_numbers.append(where)
    return inputs, line_numbers


# Transactions posted per call of the engine, and rows per write within it (a forked child
# builds the rows of the next write while this process sends the current one).
IMPORT_BATCH = 25_000
WRITE_BATCH = 5_000
# Problems a refused import lists at most (the engine's own limit per call is the same).
MAX_REPORTED = 200

_KEY = re.compile(r"vouchers\.(\d+)(?:\.lines\.(\d+))?")


def _problems_from(
    e: DomainError, transactions: Sequence[PTTransaction], line_numbers: list[list[int]]
) -> list[tuple[int | None, str]]:
    """Map the service's ``vouchers.<i>.lines.<n>`` keys back to lines of the file."""
    out: list[tuple[int | None, str]] = []
    for key, messages in (e.errors or {"": [str(e.message)]}).items():
        m = _KEY.match(key)
        line = None
        if m:
            i = int(m.group(1))
            line = transactions[i].line
            if m.group(2):
                n = int(m.group(2))
                if 1 <= n <= len(line_numbers[i]):
                    line = line_numbers[i][n - 1]
        out.extend((line, str(msg)) for msg in messages)
    return out


def _post_one_by_one(book: Book, inputs: list[svc.VoucherInput], actor: User | None) -> list[int]:
    """The reference path (``post_system_voucher`` per voucher): tests compare the bulk path
    with it. Collects every voucher's problems like the bulk path."""
    errors: dict[str, list[str]] = {}
    first = None
    ids = []
    for i, data in enumerate(inputs):
        try:
            with db.session.begin_nested():
                v = svc.post_system_voucher(
                    book, data, kind=svc.VoucherKind.NORMAL, actor=actor, source="import"
                )
            ids.append(v.id)
        except DomainError as e:
            first = first or e.message
            for key, messages in (e.errors or {"voucher": [str(e.message)]}).items():
                errors[f"vouchers.{i}.{key}"] = list(messages)
    if errors:
        raise svc.InvalidInput(first, errors=errors)
    return ids


def import_journal(
    journal: PTJournal,
    *,
    organisation_name: str,
    community_slug: str | None = None,
    allow_future: bool = False,
    actor: User | None = None,
    bulk: bool = True,
    today: dt.date | None = None,
) -> ImportResult:
    """Create the organisation and its book from ``journal`` and post every transaction.

    Flushes, never commits: on ``ImportProblems`` the caller rolls back and nothing stays.
    """
    name = (organisation_name or "").strip()
    if not name or len(name) > 200:
        raise ImportProblems(
            [(None, str(_l("Give the organisation a name of up to 200 characters.")))]
        )
    community = _community(community_slug)
    org = Organisation(
        community_id=community.id,
        name=name,
        slug=_unique_slug(community, name),
        kind=OrganisationKind.ENTERPRISE.value,
        standard=KIND_STANDARD[OrganisationKind.ENTERPRISE].value,
    )
    db.session.add(org)
    db.session.flush()
    book = svc.create_book(org, chart="CUSTOM")
    base = next((c for c in journal.operating_currencies if is_iso_currency(c)), None)
    if base:
        book.base_unit = base
    problems = _declare_units(book, journal)
    accounts, account_problems = _create_accounts(book, journal)
    problems += account_problems
    if problems:
        raise ImportProblems(problems)

    today = today or dt.date.today()
    if allow_future and journal.transactions and journal.transactions[-1].date > today:
        book.max_future_days = (max(t.date for t in journal.transactions) - today).days
    db.session.flush()
    # In batches, so that memory holds the journal and one batch's vouchers, not every
    # voucher's rows at once (a 1M-transaction file). Each batch is checked whole before it is
    # written; once one fails, the later ones are only checked, so the refusal names the
    # file's problems as one pass would (up to the engine's limit), and the caller rolls back.
    transactions = journal.transactions
    count, problems = 0, []
    for start in range(0, len(transactions), IMPORT_BATCH):
        batch = transactions[start : start + IMPORT_BATCH]
        inputs, line_numbers = _voucher_inputs(batch, accounts)
        try:
            if problems:
                svc.check_vouchers(book, inputs)
            elif bulk:
                count += len(
                    svc.post_imported_vouchers(
                        book, inputs, actor=actor, source="import", batch_size=WRITE_BATCH
                    )
                )
            else:
                count += len(_post_one_by_one(book, inputs, actor))
        except DomainError as e:
            problems += _problems_from(e, batch, line_numbers)
            if len(problems) >= MAX_REPORTED:
                break
    if problems:
        raise ImportProblems(problems)
    book.max_future_days = 0
    for acc in journal.accounts:
        if acc.close_date is not None and acc.name in accounts:
            accounts[acc.name].active = False
    db.session.flush()
    return ImportResult(organisation=org, book=book, vouchers=count, accounts=len(accounts))


def import_file(path: str | Path, **kwargs) -> ImportResult:
    """``read_file`` then ``import_journal`` (PlainTextError or ImportProblems on refusal)."""
    return import_journal(read_file(path), **kwargs)
