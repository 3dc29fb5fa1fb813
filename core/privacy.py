"""Personal data in free text (个人信息筛查): the one detector for summaries and memos.

A voucher's summary is part of its public record, which is signed into the book's log and
can never change (DESIGN.md §4). So what the public record carries is decided when the voucher
is posted: a summary that names a resident of the community, or holds a phone number, an ID
number or a room address, is refused there with a message asking for the person in the
counterparty (resident) field instead (``check_free_text``). The public pages, the PDF and the
CSV screen every summary again with the same detector (``find_personal_data``), for records
posted before that rule.

Screening compares normalised text (``normalise``): NFKC (full-width letters and digits become
ASCII), every decimal digit as its ASCII digit, case folded, and without the characters that
hide a match from a plain substring search: format characters (category Cf: zero-width
spaces and joiners, soft hyphens, bidi marks), combining marks, controls, whitespace,
punctuation and symbols. Numbers are compared digit for digit with the separators people type
between digits (spaces, dashes, dots, slashes, brackets) removed.

Pure functions apart from ``terms_for_community`` and ``check_free_text``, which read the
community's residents.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from types import SimpleNamespace

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session

NAME = "name"
PHONE = "phone"
ID_NUMBER = "id_number"
ADDRESS = "address"

# Invisible characters that are not Cf (which is removed as a whole category).
_INVISIBLE = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u034f", "\u2800"}
_DROPPED_CATEGORIES = ("Cf", "Cc", "Cs", "Co", "Cn", "Mn", "Me", "Z", "P", "S")
# What people type between the digits of a number: removed only between two digits.
_DIGIT_GAP = re.compile(
    r"(?<=[0-9])[\s\-\u2010-\u2015\u2212\u30fc\ufe58\ufe63_.·/\\()\[\]{}（）【】~]+(?=[0-9xX])"
)
_PHONE = re.compile(r"(?<![0-9])(?:(?:00|\+)?86)?1[3-9][0-9]{9}(?![0-9])")
_LANDLINE = re.compile(r"(?<![0-9])0[1-9][0-9]{1,2}-[2-9][0-9]{6,7}(?![0-9])")
# 18-character resident ID: region, birth date 18xx–20xx, sequence, check character.
_ID_NUMBER = re.compile(
    r"(?<![0-9])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
    r"[0-9]{3}[0-9xX](?![0-9xX])"
)
_MASKED_PHONE = re.compile(r"(?<![0-9])1[0-9]{2}\*{4}[0-9]{4}(?![0-9])")
_MASKED_ID = re.compile(r"(?<![0-9*])\*{10,}[0-9]{3}[0-9xX](?![0-9xX])")
_MASKED_NAME = re.compile(r"[\u4e00-\u9fff]\*+")
_ROOM = re.compile(
    r"[0-9]+(?:栋|幢|号楼|座|楼)[0-9]+单元[0-9]+|[0-9]+(?:栋|幢|号楼|座)[0-9]{3,4}(?![0-9])"
    r"|(?<![0-9])[0-9]{3,4}(?:室|房)"
)
MIN_NAME_LENGTH = 2  # a one-character "name" would match half of every summary


def _dropped(ch: str) -> bool:
    if ch in _INVISIBLE or ch.isspace():
        return True
    return unicodedata.category(ch).startswith(_DROPPED_CATEGORIES)


class _CharMap(dict):
    """A ``str.translate`` table filled in on first sight of each character (and kept), so
    the Unicode look-ups happen once per distinct character, not once per character."""

    def __init__(self, rule):
        super().__init__()
        self.rule = rule

    def __missing__(self, code: int):
        value = self[code] = self.rule(chr(code))
        return value


def _digit_rule(ch: str) -> str:
    return str(unicodedata.decimal(ch)) if not ch.isascii() and ch.isdecimal() else ch


_ASCII_DIGITS = _CharMap(_digit_rule)
_VISIBLE = _CharMap(lambda ch: "" if _dropped(ch) else ch)
_NO_FORMAT = _CharMap(lambda ch: "" if ch in _INVISIBLE or unicodedata.category(ch) == "Cf" else ch)


def _ascii_digits(text: str) -> str:
    """Every decimal digit (Arabic-Indic, Devanagari, full-width …) as its ASCII digit."""
    return text if text.isascii() else text.translate(_ASCII_DIGITS)


def _nfkc(text: str) -> str:
    return _ascii_digits(unicodedata.normalize("NFKC", text or ""))


def normalise(text: str | None) -> str:
    """The text as the detector compares it: NFKC, ASCII digits, case folded, and nothing
    between the visible letters and digits (no format, combining or control characters, no
    whitespace, punctuation or symbols). ``"王\u200b小 明"`` → ``"王小明"``."""
    return _normalise_nfkc(_nfkc(text or ""))


def _normalise_nfkc(nfkc: str) -> str:
    return unicodedata.normalize("NFKC", nfkc.casefold().translate(_VISIBLE))


def _numbers_text(nfkc: str) -> str:
    """NFKC text without format characters, where a number typed in groups becomes one run
    of digits: ``"138 0013-8000"`` → ``"13800138000"``."""
    return _DIGIT_GAP.sub("", nfkc.translate(_NO_FORMAT))


def _digits(value: str | None) -> str:
    return "".join(ch for ch in _nfkc(value or "") if ch.isdigit() or ch in "xX").upper()


@dataclass(frozen=True)  # (cached_property needs the instance __dict__: no slots)
class PersonalTerms:
    """The residents' identifying values, normalised once: names and units as text, phone and
    ID numbers as digits. ``read_numbers``, when given, supplies further numbers the first
    time a text has a run of digits they could match (``terms_for_community``: phone and ID
    numbers are encrypted at rest, and decrypting every resident's would cost more than the
    rest of a posting whose summary has no such run)."""

    texts: frozenset[str] = frozenset()
    numbers: frozenset[str] = frozenset()
    read_numbers: Callable[[], frozenset[str]] | None = field(
        default=None, compare=False, repr=False
    )

    @cached_property
    def all_numbers(self) -> frozenset[str]:
        """``numbers`` and those ``read_numbers`` gives (read now, once)."""
        if self.read_numbers is None:
            return self.numbers
        return self.numbers | self.read_numbers()

    @cached_property
    def _text_starts(self) -> dict[str, tuple[int, ...]]:
        return _starts_of(self.texts)

    @cached_property
    def _number_starts(self) -> dict[str, tuple[int, ...]]:
        return _starts(self.all_numbers)

    @classmethod
    def of(cls, residents: Iterable) -> PersonalTerms:
        residents = list(residents)
        return cls(_texts_of(residents), _numbers_of(residents))

    def found_in(self, text: str) -> bool:
        """Whether any name or unit occurs in the normalised ``text``."""
        return bool(_windows(text, self.texts, self._text_starts))

    def numbers_in(self, text: str) -> list[str]:
        """The residents' phone and ID numbers in ``text`` (digits, separators removed)."""
        return [
            window
            for run in _DIGIT_RUN.findall(text.upper())
            for window in _windows(run, self.all_numbers, self._number_starts)
        ]


_DIGIT_RUN = re.compile(r"[0-9X]{7,}")


@functools.lru_cache(maxsize=128)
def _starts_of(texts: frozenset[str]) -> dict[str, tuple[int, ...]]:
    """``_starts``, kept for the communities' terms lately seen (``_texts_of_rows`` gives back
    the same set for the same residents, so a posting does not rebuild it). Pure: the key is
    the terms themselves."""
    return _starts(texts)


@functools.lru_cache(maxsize=128)
def _texts_of_rows(rows: tuple[tuple[str | None, str | None], ...]) -> frozenset[str]:
    """``_texts_of`` of (name, unit) pairs, kept for the row sets lately seen: every posting
    reads its community's residents afresh, and normalising thousands of names again each
    time cost more than the rest of the posting. Pure: the key is the rows as read."""
    return _texts_of(SimpleNamespace(name=name, unit=unit) for name, unit in rows)


def _texts_of(residents: Iterable) -> frozenset[str]:
    """Names and units (normalised) of objects or rows with ``name`` and ``unit``."""
    texts: set[str] = set()
    for r in residents:
        for value in (getattr(r, "name", None), getattr(r, "unit", None)):
            n = normalise(value)
            if len(n) >= MIN_NAME_LENGTH:
                texts.add(n)
    return frozenset(texts)


def _numbers_of(residents: Iterable) -> frozenset[str]:
    """Phone and ID numbers (digits) of objects or rows with ``phone`` and ``id_number``."""
    numbers: set[str] = set()
    for r in residents:
        for value in (getattr(r, "phone", None), getattr(r, "id_number", None)):
            d = _digits(value)
            if len(d) >= 7:
                numbers.add(d)
    return frozenset(numbers)


def _starts(terms: frozenset[str]) -> dict[str, tuple[int, ...]]:
    """First character → the lengths of the terms starting with it."""
    out: dict[str, set[int]] = {}
    for t in terms:
        out.setdefault(t[0], set()).add(len(t))
    return {ch: tuple(sorted(lengths)) for ch, lengths in out.items()}


def _windows(text: str, terms: frozenset[str], starts: dict[str, tuple[int, ...]]) -> list[str]:
    """The substrings of ``text`` that are in ``terms``: at each position, the windows of the
    lengths of the terms starting with that character are looked up in the set, so thousands
    of residents cost no more than ten."""
    found = []
    for i, ch in enumerate(text):
        for length in starts.get(ch, ()):
            window = text[i : i + length]
            if window in terms:
                found.append(window)
    return found


def find_personal_data(text: str | None, residents: Iterable | PersonalTerms = ()) -> list[str]:
    """The kinds of personal data in ``text`` (``name``, ``phone``, ``id_number``,
    ``address``), each once, in that order; empty when none. ``residents`` are the community's
    residents (objects with ``name``, ``phone``, ``id_number``, ``unit``) or their
    ``PersonalTerms``. Phone numbers, ID numbers, room addresses and masked names are found by
    their shape whoever they belong to."""
    if not text:
        return []
    terms = residents if isinstance(residents, PersonalTerms) else PersonalTerms.of(residents)
    found: set[str] = set()
    nfkc = _nfkc(text)
    plain = _normalise_nfkc(nfkc)
    numbers = _numbers_text(nfkc)
    masked = "*" in numbers
    if terms.found_in(plain) or (masked and _MASKED_NAME.search(numbers)):
        found.add(NAME)
    # Every number shape below has a run of at least 7 digits once the gaps are removed (or
    # asterisks): most summaries have neither, and skip the patterns.
    if _DIGIT_RUN.search(numbers.upper()):
        resident_numbers = terms.numbers_in(numbers)
        if any(len(n) == 18 for n in resident_numbers) or _ID_NUMBER.search(numbers):
            found.add(ID_NUMBER)
        if (
            any(len(n) != 18 for n in resident_numbers)
            or _PHONE.search(numbers)
            or _LANDLINE.search(nfkc)
        ):
            found.add(PHONE)
    if masked:
        if _MASKED_ID.search(numbers):
            found.add(ID_NUMBER)
        if _MASKED_PHONE.search(numbers):
            found.add(PHONE)
    if _ROOM.search(plain):
        found.add(ADDRESS)
    return [k for k in (NAME, PHONE, ID_NUMBER, ADDRESS) if k in found]


MESSAGES = {
    NAME: _l(
        "This text names a resident of the community. Vouchers are published and never "
        "change: choose the person in the counterparty (resident) field instead."
    ),
    PHONE: _l(
        "This text contains a phone number. Vouchers are published and never change: choose "
        "the person in the counterparty (resident) field instead."
    ),
    ID_NUMBER: _l(
        "This text contains an ID number. Vouchers are published and never change: choose "
        "the person in the counterparty (resident) field instead."
    ),
    ADDRESS: _l(
        "This text contains a room or unit address. Vouchers are published and never change: "
        "choose the person in the counterparty (resident) field instead."
    ),
}


# --- the community's residents ----------------------------------------------------------------

_CACHE_KEY = "commons_personal_terms"


def terms_for_community(community_id: int) -> PersonalTerms:
    """The community's ``PersonalTerms``, read once per transaction of the database session
    (an import of 100,000 vouchers reads the residents once); a resident written through the
    session, a commit or a rollback drops the cache. Names and units are read at once; the
    phone and ID numbers (decrypted one by one) only when a text has a run of seven or more
    digits, the only texts they can be found in."""
    from .db import db
    from .models import Resident

    cache = db.session.info.setdefault(_CACHE_KEY, {})
    terms = cache.get(community_id)
    if terms is None:
        names_sql, numbers_sql = _residents_sql(Resident)
        params = {"community_id": community_id}

        def read_numbers() -> frozenset[str]:
            # The session's current transaction (the cache is dropped at its end).
            return _numbers_of(db.session.execute(numbers_sql, params))

        names = db.session.execute(names_sql, params)
        texts = _texts_of_rows(tuple(tuple(r) for r in names))
        terms = cache[community_id] = PersonalTerms(texts, read_numbers=read_numbers)
    return terms


@functools.cache
def _residents_sql(resident) -> tuple[sa.Select, sa.Select]:
    """The residents' names and units (in a stable order: the same residents make the same
    key), and their phone and ID numbers, of one community: built once (every posting runs the
    first)."""
    of_community = resident.community_id == sa.bindparam("community_id")
    return (
        sa.select(resident.name, resident.unit).where(of_community).order_by(resident.id),
        sa.select(resident.phone, resident.id_number).where(of_community),
    )


def check_free_text(community_id: int, text: str | None) -> list:
    """The translated problems of a summary or memo about to be posted in a book of
    ``community_id``: one message per kind of personal data found, empty when the text may be
    published. The ledger's validation adds each under the field it checked."""
    kinds = find_personal_data(text, terms_for_community(community_id))
    return [MESSAGES[k] for k in kinds]


def _drop_cache_on_resident_write(session, _flush_context, _instances) -> None:
    from .models import Resident

    if any(isinstance(o, Resident) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info.pop(_CACHE_KEY, None)


def _drop_cache(session, *_args) -> None:
    session.info.pop(_CACHE_KEY, None)


event.listen(Session, "before_flush", _drop_cache_on_resident_write)
event.listen(Session, "after_commit", _drop_cache)
event.listen(Session, "after_soft_rollback", _drop_cache)
# Any transaction's end, savepoints and rollbacks of the connection included: a cached list
# must never outlive the rows it was read from (ids are reused after a rollback).
event.listen(Session, "after_transaction_end", _drop_cache)


__all__ = [
    "ADDRESS",
    "ID_NUMBER",
    "MESSAGES",
    "NAME",
    "PHONE",
    "PersonalTerms",
    "check_free_text",
    "find_personal_data",
    "normalise",
    "terms_for_community",
]
