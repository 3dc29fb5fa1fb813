"""The neutral journal of a plain-text accounting file: its records, problems and names,
shared by the reader and the writer (no database, no Flask)."""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

ROOTS = ("Assets", "Liabilities", "Equity", "Income", "Expenses")

#: ISO 4217 minor-unit exponents of the currencies a user is likely to meet.
ISO_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        "CNY USD EUR GBP HKD MOP TWD CHF AUD CAD NZD SGD SEK NOK DKK RUB INR THB MYR PHP IDR "
        "BRL MXN ZAR TRY PLN CZK HUF ILS AED SAR EGP NGN KES PKR BDT LKR NPR MNT KZT".split(),
        2,
    ),
    **dict.fromkeys("JPY KRW VND CLP ISK UGX XAF XOF PYG RWF KMF DJF GNF VUV XPF".split(), 0),
    **dict.fromkeys("KWD BHD OMR JOD TND LYD IQD".split(), 3),
}

#: Largest exponent accepted for a commodity without an ISO exponent.
MAX_EXPONENT = 8

#: Units are stored in 64-bit signed integers by the database.
MAX_UNITS = 2**63 - 1

_MAX_ERRORS = 200


# --------------------------------------------------------------------------------------------
# Neutral data structures
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PTAccount:
    name: str
    root: str  # Assets | Liabilities | Equity | Income | Expenses
    open_date: datetime.date
    currencies: tuple[str, ...] = ()  # commodities allowed; () = any
    line: int = 0
    close_date: datetime.date | None = None


@dataclass(frozen=True, slots=True)
class PTPosting:
    account: str
    units: int  # signed minor units of ``commodity``; debit positive
    commodity: str
    line: int = 0


@dataclass(frozen=True, slots=True)
class PTTransaction:
    date: datetime.date
    narration: str
    payee: str | None
    postings: tuple[PTPosting, ...]
    line: int = 0
    flag: str = "*"


@dataclass(frozen=True, slots=True)
class PTBalance:
    """``balance`` assertion: the account and its sub-accounts hold ``units`` of
    ``commodity`` at the START of ``date`` (before that day's transactions)."""

    date: datetime.date
    account: str
    units: int
    commodity: str
    line: int = 0
    tolerance: int = 0  # explicit ``~`` tolerance, minor units (0 = exact)


@dataclass(frozen=True, slots=True)
class PTJournal:
    accounts: tuple[PTAccount, ...]
    transactions: tuple[PTTransaction, ...]  # sorted by date, file order within a day
    balances: tuple[PTBalance, ...]  # sorted by date, then line
    commodities: dict[str, int]  # commodity -> minor-unit exponent (CNY 2, JPY 0, POINTS 0)
    title: str = ""
    operating_currencies: tuple[str, ...] = ()
    ignored: tuple[tuple[int, str], ...] = field(default=())  # (line, directive) skipped


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------

# code -> (English, Chinese) templates; params are str.format()-ed in.
_MESSAGES: dict[str, tuple[str, str]] = {
    "syntax": (
        "Syntax error at column {column}: unexpected {found}",
        "语法错误：第 {column} 列不应出现 {found}",
    ),
    "syntax_eof": (
        "Syntax error: the file ends in the middle of an entry",
        "语法错误：文件在一条记录的中间结束",
    ),
    "syntax_unterminated_string": (
        'A quoted text is not closed: a double quote (") is missing somewhere above',
        '引号没有闭合：上方某处缺少一个英文双引号（"）',
    ),
    "bad_date": ("Invalid date {value}", "日期 {value} 无效"),
    "unsupported": (
        "Not supported by Commons Ledger: {feature}. Remove it or convert it to plain postings",
        "本系统不支持{feature_zh}；请删除，或改为普通的分录",
    ),
    "unknown_option": ('Unknown option "{name}"', '未知的选项 "{name}"'),
    "invalid_account_name": (
        "Invalid account name {account}: it must start with Assets, Liabilities, Equity, "
        "Income or Expenses, and each part after a colon must start with a capital letter "
        "or a digit (e.g. Assets:1002-银行存款)",
        "账户名称 {account} 无效：必须以 Assets、Liabilities、Equity、Income 或 Expenses 开头，"
        "冒号后的每一段必须以大写英文字母或数字开头（例如 Assets:1002-银行存款）",
    ),
    "invalid_commodity": (
        "Invalid commodity {commodity}: use capital letters, e.g. CNY",
        "币种/商品代码 {commodity} 无效：请使用大写英文字母，例如 CNY",
    ),
    "unknown_account": (
        'Account {account} is used but never opened (add an "open" directive)',
        "账户 {account} 未开设就被使用（请添加 open 指令）",
    ),
    "account_not_open_yet": (
        "Account {account} is used on {date} but only opens on {open_date}",
        "账户 {account} 于 {open_date} 才开设，不能在 {date} 使用",
    ),
    "account_closed": (
        "Account {account} is used on {date} but was closed on {close_date}",
        "账户 {account} 已于 {close_date} 关闭，不能在 {date} 使用",
    ),
    "duplicate_open": (
        "Account {account} is opened twice (first on line {first_line})",
        "账户 {account} 重复开设（第一次在第 {first_line} 行）",
    ),
    "close_unopened": (
        "Account {account} is closed but never opened",
        "账户 {account} 从未开设，无法关闭",
    ),
    "duplicate_close": ("Account {account} is closed twice", "账户 {account} 重复关闭"),
    "close_before_open": (
        "Account {account} is closed on {date}, before it opens on {open_date}",
        "账户 {account} 的关闭日期 {date} 早于开设日期 {open_date}",
    ),
    "currency_not_allowed": (
        "Account {account} only holds {allowed}, not {commodity}",
        "账户 {account} 只能使用 {allowed}，不能使用 {commodity}",
    ),
    "missing_commodity": (
        "Amount {amount} has no commodity (write e.g. {amount} CNY)",
        "金额 {amount} 缺少币种（例如写成 {amount} CNY）",
    ),
    "several_elided": (
        "More than one posting has no amount (lines {lines}); only one amount can be left out",
        "多个分录没有金额（第 {lines} 行）；只能省略一个金额",
    ),
    "unbalanced": (
        "Transaction does not balance: debits and credits differ by {residual}. Commons Ledger "
        "requires an exact balance (beancount would accept a small rounding difference)",
        "借贷不平衡：相差 {residual}。本系统要求借贷严格相等（beancount 允许微小的舍入误差，本系统不允许）",
    ),
    "precision": (
        "{amount} {commodity} has more decimal places than {commodity} allows ({exponent}); "
        "it cannot be recorded exactly",
        "{amount} {commodity} 的小数位数超过 {commodity} 允许的 {exponent} 位，无法精确记账",
    ),
    "too_large": ("Amount {amount} {commodity} is too large", "金额 {amount} {commodity} 过大"),
    "bad_number": (
        "Cannot compute the amount {text} exactly (not a number, or a division without an "
        "exact decimal result)",
        "金额 {text} 无法精确计算（不是数字，或除法除不尽）",
    ),
    "balance_failed": (
        "Balance assertion failed for {account} (including sub-accounts) at the start of "
        "{date}: expected {expected} {commodity}, the books show {actual} {commodity} "
        "(difference {difference})",
        "余额断言不符：{account}（含下级账户）在 {date} 日初应为 {expected} {commodity}，"
        "账面为 {actual} {commodity}（差额 {difference}）",
    ),
    "too_many_errors": (
        "Too many errors; stopped after {count}",
        "错误过多，仅显示前 {count} 条",
    ),
}

_FEATURES_ZH = {
    "cost basis {...}": "成本计价 {...}",
    "price conversion @ / @@": "价格换算 @ / @@",
    "the pad directive": "pad 自动补差指令",
    "plugins": "插件 (plugin)",
    "include": "include 引入其他文件",
    "renaming root accounts (option name_*)": "重命名根账户（name_* 选项）",
}


@dataclass(frozen=True, slots=True)
class PTProblem:
    """One error: a stable ``code``, its ``params``, and messages in English and Chinese."""

    line: int
    code: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def message_en(self) -> str:
        return _MESSAGES[self.code][0].format(**self.params)

    @property
    def message_zh(self) -> str:
        return _MESSAGES[self.code][1].format(**self.params)

    def message(self, lang: str = "en") -> str:
        return self.message_zh if lang.startswith("zh") else self.message_en


class PlainTextError(Exception):
    """The file was rejected. ``errors`` lists ``(line, message)`` (English);
    ``problems`` holds the same with ``code``, ``params``, ``message_zh``/``message_en``."""

    def __init__(self, problems: Iterable[PTProblem], filename: str = "<input>"):
        self.problems: list[PTProblem] = sorted(problems, key=lambda p: p.line)
        self.filename = filename
        super().__init__("\n".join(f"{filename}:{p.line}: {p.message_en}" for p in self.problems))

    @property
    def errors(self) -> list[tuple[int, str]]:
        return [(p.line, p.message_en) for p in self.problems]

    def messages(self, lang: str = "en") -> list[tuple[int, str]]:
        return [(p.line, p.message(lang)) for p in self.problems]


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

_ASCII_COMPONENT_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-"
)
_CURRENCY_RE = re.compile(
    r"(?:[A-Z](?:[A-Z0-9'._-]*[A-Z0-9])?|/[A-Z0-9'._-]*[A-Z](?:[A-Z0-9'._-]*[A-Z0-9])?)\Z"
)


def _valid_component(comp: str) -> bool:
    # beancount's lexer: first char [A-Z0-9] or non-ASCII, then [A-Za-z0-9-] or non-ASCII;
    # its grammar also wants an upper-case letter or a digit first (unicode Lu / Nd).
    if not comp:
        return False
    first = comp[0]
    if first.isascii():
        if not (first.isdigit() or "A" <= first <= "Z"):
            return False
    elif unicodedata.category(first) not in ("Lu", "Nd"):
        return False
    return all(ch in _ASCII_COMPONENT_CHARS or not ch.isascii() for ch in comp[1:]) and not any(
        ch.isspace() for ch in comp
    )


def is_valid_account_name(name: str) -> bool:
    """True if beancount accepts ``name`` (root one of ``ROOTS``, valid components)."""
    parts = name.split(":")
    return len(parts) >= 2 and parts[0] in ROOTS and all(_valid_component(p) for p in parts[1:])


def is_valid_commodity(name: str) -> bool:
    return bool(_CURRENCY_RE.match(name))


def _clean_component_chars(text: str) -> str:
    out = []
    for ch in text:
        if ch in _ASCII_COMPONENT_CHARS:
            out.append(ch)
        elif not ch.isascii() and (
            unicodedata.category(ch).startswith("L") or unicodedata.category(ch) == "Nd"
        ):
            out.append(ch)  # letters of any script (Chinese...) and digits
        else:
            out.append("-")
    return re.sub("-{2,}", "-", "".join(out)).strip("-")


def beancount_account_name(root: str, code: str, name: str) -> str:
    """Build a beancount account name ``{root}:{code}-{name}``.

    ``root`` is a root type (``Assets``...) or a parent account name already built by this
    function (``Income:5001-主营业务收入``). The component is ``{code}-{name}`` with every
    character beancount does not allow in an account name (spaces, ``:``, ``(``, ``.``,
    punctuation...) replaced by ``-``; letters of any script (Chinese included) and digits are
    kept. The component always starts with the code, because beancount rejects a component
    that starts with a Chinese character. Example::

        beancount_account_name("Assets", "1002", "银行存款") == "Assets:1002-银行存款"
    """
    if root in ROOTS:
        parent = root
    elif is_valid_account_name(root):
        parent = root
    else:
        raise ValueError(f"invalid root or parent account: {root!r}")
    code_part = _clean_component_chars(code.strip()).upper()
    if not code_part or not (code_part[0].isdigit() or "A" <= code_part[0] <= "Z"):
        raise ValueError(f"account code must start with a digit or a letter A-Z: {code!r}")
    name_part = _clean_component_chars(name.strip())
    component = f"{code_part}-{name_part}" if name_part else code_part
    result = f"{parent}:{component}"
    if not is_valid_account_name(result):  # pragma: no cover - guaranteed by the cleaning
        raise ValueError(f"cannot build a beancount account name from {code!r} {name!r}")
    return result


def beancount_commodity_name(code: str) -> str:
    """Map a commodity code to a valid beancount commodity (``points`` -> ``POINTS``)."""
    cleaned = re.sub(r"[^A-Z0-9'._-]", "-", code.strip().upper()).strip("'._-")
    if cleaned and not cleaned[0].isalpha():
        cleaned = "C" + cleaned
    if not is_valid_commodity(cleaned):
        raise ValueError(f"cannot make a beancount commodity from {code!r}")
    return cleaned


# --------------------------------------------------------------------------------------------
# Helpers on journals
# --------------------------------------------------------------------------------------------


def format_units(units: int, exponent: int) -> str:
    """Exact decimal text of integer minor units: (12345, 2) -> '123.45', (-5, 2) -> '-0.05'."""
    sign = "-" if units < 0 else ""
    units = abs(units)
    if exponent <= 0:
        return f"{sign}{units * 10 ** (-exponent)}"
    major, minor = divmod(units, 10**exponent)
    return f"{sign}{major}.{minor:0{exponent}d}"


def balances(journal: PTJournal) -> dict[tuple[str, str], int]:
    """Per (account, commodity) sum of postings in minor units (own postings only, no
    sub-accounts), zero sums included for pairs that were posted to."""
    result: dict[tuple[str, str], int] = {}
    for txn in journal.transactions:
        for p in txn.postings:
            key = (p.account, p.commodity)
            result[key] = result.get(key, 0) + p.units
    return result
