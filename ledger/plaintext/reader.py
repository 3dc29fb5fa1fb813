"""Reading beancount text into a ``PTJournal`` (see the package docstring for the subset)."""

from __future__ import annotations

import collections
import datetime
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, Inexact, InvalidOperation, localcontext
from sys import intern

import beancount_ast

from .. import forked
from .journal import (
    _FEATURES_ZH,
    _MAX_ERRORS,
    ISO_EXPONENTS,
    MAX_EXPONENT,
    MAX_UNITS,
    PlainTextError,
    PTAccount,
    PTBalance,
    PTJournal,
    PTPosting,
    PTProblem,
    PTTransaction,
    format_units,
    is_valid_account_name,
    is_valid_commodity,
)

# --------------------------------------------------------------------------------------------
# Reading beancount
# --------------------------------------------------------------------------------------------

_IGNORED_OPTIONS = frozenset(
    """title operating_currency conversion_currency infer_tolerance_from_cost documents
    render_commas long_string_maxlines insert_pythonpath account_previous_balances
    account_previous_earnings account_previous_conversions account_current_earnings
    account_current_conversions account_unrealized_gains account_rounding display_precision
    inferred_tolerance_default tolerance_multiplier inferred_tolerance_multiplier
    plugin_processing_mode booking_method allow_pipe_separator
    allow_deprecated_none_for_tags_and_links use_precise_interpolation""".split()
)
_UNSUPPORTED_OPTIONS = frozenset(
    "name_assets name_liabilities name_equity name_income name_expenses plugin include "
    "filename input_hash dcontext commodities".split()
)

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "b": "\b"}
_ESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == '"' and raw[-1] == '"':
        raw = raw[1:-1]
    if "\\" not in raw:
        return raw
    return _ESCAPE_RE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), raw)


# Numbers are kept as (mantissa, places): value = mantissa * 10**-places, with no trailing
# zeros in the fraction, so "1.50" -> (15, 1) and "1.000" -> (1, 0). Pure integer arithmetic.
_Num = tuple[int, int]


def _literal(text: str) -> _Num:
    """'-1,234.50' -> (-12345, 1). Plain string operations: this runs once per amount."""
    first = text[:1]
    body = text[1:] if first in ("-", "+") else text
    whole, _, frac = body.partition(".")
    if "," in whole:
        whole = whole.replace(",", "")
    check = whole + frac
    if not (check.isdigit() and check.isascii()):
        raise ValueError(f"not a number: {text}")
    frac = frac.rstrip("0")
    mantissa = int(whole + frac) if whole or frac else 0
    if not mantissa:
        return (0, 0)
    return (-mantissa if first == "-" else mantissa, len(frac))


def _num_text(n: _Num) -> str:
    return format_units(n[0], n[1])


def _from_decimal(d: Decimal) -> _Num:
    sign, digits, exp = d.as_tuple()
    if not isinstance(exp, int):
        raise ValueError("not a finite number")
    mantissa = int("".join(map(str, digits))) if digits else 0
    if sign:
        mantissa = -mantissa
    if not mantissa:
        return (0, 0)
    if exp >= 0:
        if exp > 40:
            raise ValueError("number too large")
        return (mantissa * 10**exp, 0)
    places = -exp
    while places and mantissa % 10 == 0:
        mantissa //= 10
        places -= 1
    return (mantissa, places)


_OPS = {"Add": "__add__", "Sub": "__sub__", "Mul": "__mul__", "Div": "__truediv__"}


def _eval_number(expr) -> _Num:
    """Evaluate a beancount number expression exactly; ValueError if it is not exact."""
    if expr.kind == "Literal":
        return _literal(expr.literal.content)
    return _from_decimal(_eval_decimal(expr))


def _eval_decimal(expr) -> Decimal:
    if expr.kind == "Literal":
        mantissa, places = _literal(expr.literal.content)
        return Decimal(mantissa).scaleb(-places)
    op = expr.op.content if expr.op is not None else None
    if expr.left is None or expr.right is None or op not in _OPS:
        raise ValueError(f"unsupported expression ({expr.kind})")
    left = _eval_decimal(expr.left)
    right = _eval_decimal(expr.right)
    with localcontext() as ctx:
        ctx.prec = 60
        ctx.traps[Inexact] = True
        try:
            return getattr(left, _OPS[op])(right)
        except Inexact:
            raise ValueError("the division has no exact decimal result") from None
        except ArithmeticError as exc:  # division by zero etc.
            raise ValueError(str(exc) or type(exc).__name__) from None


class _LineCounter:
    """UTF-8 byte offset (beancount_ast spans) -> 1-based line number. Offsets arrive almost
    always in increasing order, so counting newlines since the previous offset is O(file)."""

    def __init__(self, text: str, base: int = 0):
        self.text = text  # encoded at the first use: a reader whose parts are read elsewhere
        self._data: bytes | None = None  # never needs the copy
        self.base = base  # lines of the file before ``text`` (a part read by itself)
        self.pos = 0
        self.line = base + 1

    @property
    def data(self) -> bytes:
        if self._data is None:
            self._data = self.text.encode("utf-8")
        return self._data

    def __call__(self, offset: int) -> int:
        if offset >= self.pos:
            self.line += self.data.count(b"\n", self.pos, offset)
        else:
            self.line = self.data.count(b"\n", 0, offset) + 1 + self.base
        self.pos = offset
        return self.line


@dataclass
class _Open:
    account: str
    date: datetime.date
    currencies: tuple[str, ...]
    line: int
    close_date: datetime.date | None = None


class _TooManyErrors(Exception):
    pass


_FEATURE_PAD = "the pad directive"


class _Reader:
    def __init__(
        self, text: str, filename: str, exponents: Mapping[str, int] | None, *, base_line: int = 0
    ):
        self.text = text
        self.filename = filename
        self.problems: list[PTProblem] = []
        self.fixed_exponents = dict(ISO_EXPONENTS)
        if exponents:
            self.fixed_exponents.update(exponents)
        self.opens: dict[str, _Open] = {}
        self.closes: list[tuple[str, datetime.date, int]] = []
        # (date, line, flag, payee, narration, [(account, mantissa|None, places, commodity, line)])
        self.txns: list[tuple] = []
        # (date, account, number, commodity, tolerance, line)
        self.raw_balances: list[tuple] = []
        self.places: dict[str, int] = {}  # commodity -> max significant places seen
        self.ignored: list[tuple[int, str]] = []
        self.title: str | None = None  # None: no title option (yet)
        self.operating: list[str] = []
        self.account_ok: dict[str, bool] = {}
        self.commodity_ok: dict[str, bool] = {}
        self.dates: dict[str, datetime.date | None] = {}
        self.texts: dict[str, str] = {}
        self.line_of = _LineCounter(text, base_line)

    # -- helpers -----------------------------------------------------------------------------

    def err(self, line: int, code: str, **params: object) -> None:
        self.problems.append(PTProblem(line, code, {k: str(v) for k, v in params.items()}))
        if len(self.problems) >= _MAX_ERRORS:
            raise _TooManyErrors

    def check_account(self, name: str, line: int) -> bool:
        ok = self.account_ok.get(name)
        if ok is None:
            ok = self.account_ok[name] = is_valid_account_name(name)
        if not ok:
            self.err(line, "invalid_account_name", account=name)
        return ok

    def check_commodity(self, name: str, line: int) -> bool:
        ok = self.commodity_ok.get(name)
        if ok is None:
            ok = self.commodity_ok[name] = is_valid_commodity(name)
            if ok:
                self.places.setdefault(name, 0)
        if not ok:
            self.err(line, "invalid_commodity", commodity=name)
        return ok

    def date(self, text: str, line: int) -> datetime.date | None:
        try:
            return self.dates[text]
        except KeyError:
            pass
        try:
            day: datetime.date | None = datetime.date.fromisoformat(text.replace("/", "-"))
        except ValueError:
            day = None
        self.dates[text] = day
        if day is None:
            self.err(line, "bad_date", value=text)
        return day

    def unsupported(self, line: int, feature: str) -> None:
        self.err(
            line, "unsupported", feature=feature, feature_zh=_FEATURES_ZH.get(feature, feature)
        )

    # -- pass 1: directives -> raw records ---------------------------------------------------

    def parse(self) -> None:
        try:
            ast = beancount_ast.parse_string(self.text, self.filename)
        except beancount_ast.ParseError as exc:
            for detail in exc.errors:
                self.syntax_error(detail)
            if not self.problems:
                self.err(1, "syntax", column=1, found=str(exc))
            return
        handlers = {
            beancount_ast.Transaction: self.on_transaction,
            beancount_ast.Open: self.on_open,
            beancount_ast.Close: self.on_close,
            beancount_ast.Balance: self.on_balance,
            beancount_ast.Commodity: self.on_commodity,
            beancount_ast.Option: self.on_option,
        }
        ignored_kinds = {
            beancount_ast.Note: "note",
            beancount_ast.Document: "document",
            beancount_ast.Event: "event",
            beancount_ast.Query: "query",
            beancount_ast.Price: "price",
            beancount_ast.Custom: "custom",
        }
        rejected = {
            beancount_ast.Pad: _FEATURE_PAD,
            beancount_ast.Plugin: "plugins",
            beancount_ast.Include: "include",
        }
        silent = (
            beancount_ast.Comment,
            beancount_ast.Headline,
            beancount_ast.Tag,
            beancount_ast.PushMeta,
            beancount_ast.PopMeta,
        )
        line_of = self.line_of
        for d in ast.directives:
            kind = type(d)
            handler = handlers.get(kind)
            if handler is not None:
                handler(d)
            elif kind in ignored_kinds:
                self.ignored.append((line_of(d.span.start), ignored_kinds[kind]))
            elif kind in rejected:
                self.unsupported(line_of(d.span.start), rejected[kind])
            elif not isinstance(d, silent):  # Raw, or a directive kind added later
                self.err(line_of(d.span.start), "syntax", column=1, found=kind.__name__)

    # Pass 1 in child processes. beancount_ast's syntax tree is never freed: each node holds
    # its ``File`` and the file its nodes, a cycle the garbage collector cannot see (the
    # extension's objects are not tracked), so a parse keeps about 35 bytes per character of
    # text until the process ends (2.4 GB for a 1M-transaction file). A forked child parses a
    # part of the text of at most ``_PART_CHARS``, sends back its raw records and exits, which
    # returns the tree's memory; two children work at once, so reading also uses a second
    # core. Any problem in any part (including a cut that was not a directive boundary after
    # all, such as inside a multi-line string: that part then fails to parse) and the whole
    # text is read again in one pass, in one child, so problems are always found and named
    # exactly as a single pass names them.

    _STATE = ("opens", "closes", "txns", "raw_balances", "places", "ignored", "title", "operating")

    def parse_in_parts(self) -> bool:
        """Pass 1 over parts of the text in child processes, two at a time; True when every
        part read cleanly and they were merged (in the text's order)."""
        if not hasattr(os, "fork"):
            return False
        bounds = _parts(self.text)
        if bounds is None:
            return False
        results: list[dict | None] = []
        running: collections.deque = collections.deque()

        def take() -> None:
            context, received = running.popleft()
            try:
                results.append(next(received))
            finally:
                context.__exit__(None, None, None)

        try:
            base = 0
            prev = 0
            for start, end in bounds:
                base += self.text.count("\n", prev, start)
                prev = start
                if len(running) == _WORKERS:
                    take()

                def read(start=start, end=end, base=base):
                    other = self._part(self.text[start:end], base)
                    yield None if other.problems else {k: getattr(other, k) for k in self._STATE}

                context = forked.in_child(read)
                running.append((context, context.__enter__()))
            while running:
                take()
        except forked.ChildFailed:
            while running:  # close the pipes and reap the children still running
                running.popleft()[0].__exit__(None, None, None)
            return False
        if any(r is None for r in results):
            return False
        opened: set[str] = set()
        for theirs in results:
            assert theirs is not None
            if not opened.isdisjoint(theirs["opens"]):
                return False  # read again in one pass (a duplicate open is named there too)
            opened.update(theirs["opens"])
        for theirs in results:
            assert theirs is not None
            self._merge(theirs)
        return True

    def _merge(self, theirs: dict) -> None:
        self.opens.update(theirs["opens"])
        self.closes += theirs["closes"]
        self.txns += theirs["txns"]
        self.raw_balances += theirs["raw_balances"]
        for commodity, places in theirs["places"].items():
            self.places[commodity] = max(places, self.places.get(commodity, 0))
        self.ignored += theirs["ignored"]
        if theirs["title"] is not None:
            self.title = theirs["title"]
        self.operating += theirs["operating"]

    def parse_in_child(self) -> bool:
        """Pass 1 in one pass, in a child process (its syntax tree leaves with it): the same
        records and problems as ``parse``. False if the child could not be used."""
        if not hasattr(os, "fork"):
            return False

        def read():
            other = _Reader(self.text, self.filename, None)
            other.fixed_exponents = self.fixed_exponents
            too_many = False
            try:
                other.parse()
            except _TooManyErrors:
                too_many = True
            state = {k: getattr(other, k) for k in self._STATE}
            yield state, other.problems, too_many

        try:
            with forked.in_child(read) as received:
                state, problems, too_many = next(received)
        except forked.ChildFailed:
            return False
        self._merge(state)
        self.problems = problems
        if too_many:
            raise _TooManyErrors
        return True

    def _part(self, text: str, base_line: int) -> _Reader:
        """Pass 1 over ``text``, a part of this reader's text starting after ``base_line``."""
        part = _Reader(text, self.filename, None, base_line=base_line)
        part.fixed_exponents = self.fixed_exponents
        try:
            part.parse()
        except _TooManyErrors:
            pass
        return part

    def syntax_error(self, detail) -> None:
        line = detail.start_line or 1
        column = detail.start_col or 1
        found = detail.found
        if found is None:
            if "'\"'" in detail.message:
                self.err(line, "syntax_unterminated_string")
            else:
                self.err(line, "syntax_eof")
            return
        lines = self.text.split("\n")
        source = lines[line - 1] if 0 < line <= len(lines) else ""
        if not found.isascii() and 2 <= column <= len(source) and source[column - 2] == ":":
            # e.g. Assets:银行存款 - beancount wants a capital letter or digit after ':'
            start = source.rfind(" ", 0, column - 1) + 1
            token = source[start:].split()[0] if source[start:].split() else found
            self.err(line, "invalid_account_name", account=token)
            return
        self.err(line, "syntax", column=column, found=repr(found))

    def on_option(self, d) -> None:
        key = _unquote(d.key.content)
        value = _unquote(d.value.content)
        line = self.line_of(d.span.start)
        if key == "title":
            self.title = value
        elif key == "operating_currency":
            if self.check_commodity(value, line):
                self.operating.append(value)
        elif key in _UNSUPPORTED_OPTIONS:
            if key.startswith("name_"):
                self.unsupported(line, "renaming root accounts (option name_*)")
            else:
                self.unsupported(line, f'option "{key}"')
        elif key not in _IGNORED_OPTIONS:
            self.err(line, "unknown_option", name=key)

    def on_commodity(self, d) -> None:
        self.check_commodity(d.currency.content, self.line_of(d.span.start))

    def on_open(self, d) -> None:
        line = self.line_of(d.span.start)
        name = d.account.content
        day = self.date(d.date.content, line)
        currencies = tuple(c.content for c in d.currencies)
        ok = all([self.check_commodity(c, line) for c in currencies])
        if not self.check_account(name, line) or day is None or not ok:
            return
        previous = self.opens.get(name)
        if previous is not None:
            self.err(line, "duplicate_open", account=name, first_line=previous.line)
            return
        self.opens[name] = _Open(name, day, currencies, line)

    def on_close(self, d) -> None:
        line = self.line_of(d.span.start)
        name = d.account.content
        day = self.date(d.date.content, line)
        if self.check_account(name, line) and day is not None:
            self.closes.append((name, day, line))

    def on_balance(self, d) -> None:
        line = self.line_of(d.span.start)
        name = d.account.content
        day = self.date(d.date.content, line)
        ok = self.check_account(name, line)
        amount = d.amount
        try:
            number = _eval_number(amount.number)
        except ValueError:
            self.err(line, "bad_number", text=amount.raw.content)
            return
        if amount.currency is None:
            self.err(line, "missing_commodity", amount=_num_text(number))
            return
        commodity = amount.currency.content
        tolerance = None
        if d.tolerance is not None:
            try:
                tolerance = abs(Decimal(d.tolerance.content.replace(",", "")))
            except InvalidOperation:
                self.err(line, "bad_number", text=d.tolerance.content)
                return
        if not self.check_commodity(commodity, line) or not ok or day is None:
            return
        if number[1] > self.places[commodity]:
            self.places[commodity] = number[1]
        self.raw_balances.append((day, name, number, commodity, tolerance, line))

    def on_transaction(self, d) -> None:
        # The hot loop of the reader (once per posting): line counting is inlined, and an
        # amount is first read from its raw text ("123.45 CNY"), falling back to the parsed
        # expression for anything else.
        counter = self.line_of
        count = counter.data.count
        start = d.span.start
        line = counter(start)
        pos = start
        day = self.date(d.date.content, line)
        flag = d.txn.content if d.txn is not None else "*"
        if flag == "txn":
            flag = "*"
        # One string for each distinct payee and narration (they repeat: suppliers, fees).
        texts = self.texts
        payee = None
        if d.payee is not None:
            payee = _unquote(d.payee.content)
            payee = texts.setdefault(payee, payee)
        narration = ""
        if d.narration is not None:
            narration = _unquote(d.narration.content)
            narration = texts.setdefault(narration, narration)
        postings: list[tuple] = []
        good = day is not None
        account_ok = self.account_ok
        places_seen = self.places
        pline = line
        for p in d.postings:
            offset = p.span.start
            if offset >= pos:
                pline += count(b"\n", pos, offset)
                pos = offset
            else:  # pragma: no cover - spans are in file order
                pline = counter(offset)
            if p.cost_spec is not None:
                self.unsupported(pline, "cost basis {...}")
                good = False
            if p.price_operator is not None or p.price_annotation is not None:
                self.unsupported(pline, "price conversion @ / @@")
                good = False
            name = intern(p.account.content)  # one string per account: less memory, less to pickle
            if not account_ok.get(name) and not self.check_account(name, pline):
                good = False
            amount = p.amount
            if amount is None:
                postings.append((name, None, 0, None, pline))
                continue
            number_text, _, commodity = amount.raw.content.partition(" ")
            commodity = intern(commodity.strip())
            number = None
            if commodity in places_seen:
                try:
                    mantissa, places = _literal(number_text)
                    number = True
                except ValueError:
                    pass
            if number is None:
                try:
                    mantissa, places = _eval_number(amount.number)
                except ValueError:
                    self.err(pline, "bad_number", text=amount.raw.content)
                    good = False
                    continue
                if amount.currency is None:
                    self.err(pline, "missing_commodity", amount=format_units(mantissa, places))
                    good = False
                    continue
                commodity = amount.currency.content
                if commodity not in places_seen and not self.check_commodity(commodity, pline):
                    good = False
                    continue
            if places > places_seen[commodity]:
                places_seen[commodity] = places
            postings.append((name, mantissa, places, commodity, pline))
        counter.pos = pos
        counter.line = pline
        if good:
            self.txns.append((day, line, flag, payee, narration, postings))

    # -- pass 2: exponents, units, elision, account checks ------------------------------------

    def exponents(self) -> dict[str, int]:
        result: dict[str, int] = {}
        for commodity, seen in self.places.items():
            fixed = self.fixed_exponents.get(commodity)
            result[commodity] = fixed if fixed is not None else min(seen, MAX_EXPONENT)
        return result

    def to_units(self, number: _Num, commodity: str, exps: dict[str, int], line: int) -> int | None:
        exp = exps[commodity]
        mantissa, places = number
        if places > exp:
            self.err(line, "precision", amount=_num_text(number), commodity=commodity, exponent=exp)
            return None
        units = mantissa * 10 ** (exp - places)
        if not -MAX_UNITS <= units <= MAX_UNITS:
            self.err(line, "too_large", amount=_num_text(number), commodity=commodity)
            return None
        return units

    def inactive(self, op: _Open | None, account: str, day: datetime.date, line: int) -> bool:
        """Report and return True unless ``account`` is open on ``day`` (open <= day <= close)."""
        if op is None:
            self.err(line, "unknown_account", account=account)
        elif day < op.date:
            self.err(line, "account_not_open_yet", account=account, date=day, open_date=op.date)
        elif op.close_date is not None and day > op.close_date:
            self.err(line, "account_closed", account=account, date=day, close_date=op.close_date)
        else:
            return False
        return True

    def build(self) -> PTJournal:
        opens = self.opens
        for name, day, line in self.closes:
            op = opens.get(name)
            if op is None:
                self.err(line, "close_unopened", account=name)
            elif op.close_date is not None:
                self.err(line, "duplicate_close", account=name)
            elif day < op.date:
                self.err(line, "close_before_open", account=name, date=day, open_date=op.date)
            else:
                op.close_date = day

        exps = self.exponents()
        scale = {c: 10**e for c, e in exps.items()}
        transactions: list[PTTransaction] = []
        txns: list[tuple | None] = self.txns  # type: ignore[assignment]
        self.txns = []
        for k in range(len(txns)):  # each raw record let go once read: not two copies at once
            day, line, flag, payee, narration, raw_postings = txns[k]  # type: ignore[misc]
            txns[k] = None
            postings: list[PTPosting | None] = []
            residual: dict[str, int] = {}
            elided: list[tuple] = []
            good = True
            for rp in raw_postings:
                account, mantissa, places, commodity, pline = rp
                op = opens.get(account)
                if (
                    op is None
                    or day < op.date
                    or (op.close_date is not None and day > op.close_date)
                ):
                    self.inactive(op, account, day, pline)
                    good = False
                if mantissa is None:
                    elided.append(rp)
                    postings.append(None)
                    continue
                if places == 0:
                    units = mantissa * scale[commodity]
                    if not -MAX_UNITS <= units <= MAX_UNITS:
                        units = self.to_units((mantissa, places), commodity, exps, pline)
                else:
                    units = self.to_units((mantissa, places), commodity, exps, pline)
                if units is None:
                    good = False
                    continue
                if op is not None and op.currencies and commodity not in op.currencies:
                    self.err(
                        pline,
                        "currency_not_allowed",
                        account=account,
                        allowed=", ".join(op.currencies),
                        commodity=commodity,
                    )
                    good = False
                residual[commodity] = residual.get(commodity, 0) + units
                postings.append(PTPosting(account, units, commodity, pline))
            if not good:
                continue
            if len(elided) > 1:
                self.err(line, "several_elided", lines=", ".join(str(rp[4]) for rp in elided))
                continue
            if elided:
                account, pline = elided[0][0], elided[0][4]
                op = opens[account]
                inferred = [
                    PTPosting(account, -units, commodity, pline)
                    for commodity, units in residual.items()
                    if units
                ]
                for p in inferred:
                    if op.currencies and p.commodity not in op.currencies:
                        self.err(
                            pline,
                            "currency_not_allowed",
                            account=account,
                            allowed=", ".join(op.currencies),
                            commodity=p.commodity,
                        )
                        good = False
                final: list[PTPosting] = []
                for posting in postings:
                    if posting is None:
                        final.extend(inferred)
                    else:
                        final.append(posting)
            else:
                unbalanced = [(c, u) for c, u in residual.items() if u]
                if unbalanced:
                    shown = ", ".join(f"{format_units(u, exps[c])} {c}" for c, u in unbalanced)
                    self.err(line, "unbalanced", residual=shown)
                    continue
                final = postings  # type: ignore[assignment]
            if good:
                transactions.append(PTTransaction(day, narration, payee, tuple(final), line, flag))

        balance_list: list[PTBalance] = []
        for day, account, number, commodity, tolerance, line in self.raw_balances:
            bad = self.inactive(opens.get(account), account, day, line)
            units = self.to_units(number, commodity, exps, line)
            if bad or units is None:
                continue
            tol = 0
            if tolerance is not None:
                with localcontext() as ctx:
                    ctx.prec = 80
                    tol = int(tolerance.scaleb(exps[commodity]).to_integral_value(ROUND_FLOOR))
            balance_list.append(PTBalance(day, account, units, commodity, line, tol))

        transactions.sort(key=lambda t: t.date)  # stable: file order within a day
        balance_list.sort(key=lambda b: (b.date, b.line))

        if not self.problems:
            self.check_balances(transactions, balance_list, exps)

        accounts = tuple(
            PTAccount(
                op.account,
                op.account.split(":", 1)[0],
                op.date,
                op.currencies,
                op.line,
                op.close_date,
            )
            for op in opens.values()
        )
        return PTJournal(
            accounts=accounts,
            transactions=tuple(transactions),
            balances=tuple(balance_list),
            commodities=exps,
            title=self.title or "",
            operating_currencies=tuple(self.operating),
            ignored=tuple(self.ignored),
        )

    def check_balances(self, transactions, balance_list, exps) -> None:
        """Beancount semantics: at the start of the assertion's day, the account plus all its
        sub-accounts hold exactly the asserted amount of that commodity."""
        if not balance_list:
            return
        names = list(self.opens)
        subtree: dict[str, list[str]] = {}
        running: dict[tuple[str, str], int] = {}
        i = 0
        n = len(transactions)
        for bal in balance_list:
            while i < n and transactions[i].date < bal.date:
                for p in transactions[i].postings:
                    key = (p.account, p.commodity)
                    running[key] = running.get(key, 0) + p.units
                i += 1
            accounts = subtree.get(bal.account)
            if accounts is None:
                prefix = bal.account + ":"
                accounts = subtree[bal.account] = [
                    a for a in names if a == bal.account or a.startswith(prefix)
                ]
            actual = sum(running.get((a, bal.commodity), 0) for a in accounts)
            diff = actual - bal.units
            if abs(diff) > bal.tolerance:
                exp = exps[bal.commodity]
                self.err(
                    bal.line,
                    "balance_failed",
                    account=bal.account,
                    date=bal.date,
                    expected=format_units(bal.units, exp),
                    actual=format_units(actual, exp),
                    commodity=bal.commodity,
                    difference=format_units(diff, exp),
                )


# Texts from this size on are read in child processes (see ``_Reader.parse_in_parts``); a
# smaller text's syntax tree (at most ~2 MB kept) costs less than a fork.
_CHILD_MIN_CHARS = 64_000
# From this size on the text is read in at least two parts at once (the second core).
_PARALLEL_MIN_CHARS = 1_000_000
# At most this many characters a part: a child's syntax tree stays near 100 MB.
_PART_CHARS = 2_000_000
_WORKERS = 2
# A line that starts a dated directive: where the text may be cut in two.
_DIRECTIVE_START = re.compile(r"\n(?=\d{4}[-/]\d{2}[-/]\d{2}[ \t])")


def _parts(text: str) -> list[tuple[int, int]] | None:
    """Where to cut ``text`` for reading in parts: (start, end) pairs, each cut where a dated
    directive starts a line, at most about ``_PART_CHARS`` apart; at least two parts from
    ``_PARALLEL_MIN_CHARS``. None when the text is too small to cut (read it in one child)."""
    n = len(text)
    count = max(-(-n // _PART_CHARS), 2 if n >= _PARALLEL_MIN_CHARS else 1)
    if count < 2:
        return None
    cuts = [0]
    for k in range(1, count):
        m = _DIRECTIVE_START.search(text, max(n * k // count, cuts[-1]))
        if m is None:
            break
        if m.end() > cuts[-1]:
            cuts.append(m.end())
    cuts.append(n)
    return list(zip(cuts, cuts[1:], strict=False)) if len(cuts) > 2 else None


def read_beancount(
    text: str,
    filename: str = "<input>",
    *,
    exponents: Mapping[str, int] | None = None,
    parallel: bool | None = None,
) -> PTJournal:
    """Parse beancount ``text`` into a ``PTJournal``; raise ``PlainTextError`` listing every
    problem with its line number. ``exponents`` fixes the minor-unit exponent of commodities
    (ISO currencies default to their ISO 4217 exponent). ``parallel``: read the text in child
    processes, in parts two at a time (default: from ``_CHILD_MIN_CHARS``; the parser's memory
    leaves with each child); False reads it in this process. The result, and every problem
    reported, are the same either way."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = _Reader(text, filename, exponents)
    journal = None
    if parallel is None:
        parallel = len(text) >= _CHILD_MIN_CHARS
    try:
        if not (parallel and (reader.parse_in_parts() or reader.parse_in_child())):
            reader.parse()
        if not reader.problems:
            journal = reader.build()
    except _TooManyErrors:
        reader.problems.append(
            PTProblem(reader.problems[-1].line, "too_many_errors", {"count": str(_MAX_ERRORS)})
        )
    if reader.problems or journal is None:
        raise PlainTextError(reader.problems, filename)
    return journal
