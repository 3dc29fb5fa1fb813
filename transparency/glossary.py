# SPDX-License-Identifier: AGPL-3.0-or-later
"""The one glossary of accounting words the public pages explain (issue 14 item 1).

Every public page that shows a statement line, a record kind or a verifier word explains it
from here and nowhere else: ``TERMS`` lists each term in Chinese (the words a statement line
uses) and English, with a one-sentence explanation a resident who has never seen a balance
sheet can follow. ``explain(label)`` finds the term a label uses (the longest that matches),
so a page can fold the explanation under the label (``<details>``: a tap, no JavaScript).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape


@dataclass(frozen=True)
class Term:
    slug: str
    zh: tuple[str, ...]  # the words as Chinese statement lines write them
    en: tuple[str, ...]  # lower-case English words
    text: object  # lazy string: the explanation


TERMS: tuple[Term, ...] = (
    Term(
        "jiti",
        ("计提",),
        ("accrue", "accrual"),
        _l(
            "Accrue: record a cost or income in the month it belongs to, before the money "
            "moves (wages earned this month but paid next month, for example)."
        ),
    ),
    Term(
        "jiezhuan",
        ("结转",),
        ("carry forward", "year-end closing"),
        _l(
            "Carry forward: move a total from one account to another at the end of a period, "
            "for example the year's income and costs into the result of the year. No money moves."
        ),
    ),
    Term(
        "chongxiao",
        ("冲销", "冲回", "红字"),
        ("reversal", "reverse"),
        _l(
            "Reversal: a voucher that cancels an earlier one with the opposite amounts. The "
            "earlier voucher is never deleted, so both stay visible."
        ),
    ),
    Term(
        "xianding",
        ("限定性",),
        ("restricted",),
        _l(
            "Restricted: money a donor or a resolution gave for one purpose only; it may be "
            "spent on nothing else. Unrestricted money may be used for any of the "
            "organisation's work."
        ),
    ),
    Term(
        "feixianding",
        ("非限定性",),
        ("unrestricted",),
        _l(
            "Unrestricted: money the organisation may use for any of its work, unlike "
            "restricted money given for one purpose."
        ),
    ),
    Term(
        "zhejiu",
        ("折旧",),
        ("depreciation",),
        _l(
            "Depreciation: the part of a building's or machine's price counted as a cost each "
            "month of its useful life, instead of all at once when it was bought."
        ),
    ),
    Term(
        "tanxiao",
        ("待摊", "摊销"),
        ("amortis", "prepaid", "deferred"),
        _l(
            "Amortisation: a payment made once but counted as a cost a little each month "
            "over the time it covers (a year's insurance, for example)."
        ),
    ),
    Term(
        "yushou",
        ("预收",),
        ("received in advance", "advance"),
        _l(
            "Received in advance: money paid before the service was given (fees for next "
            "months). It is owed as service until then, so it is a liability, not income yet."
        ),
    ),
    Term(
        "yingshou",
        ("应收",),
        ("receivable",),
        _l(
            "Receivable: money others owe the organisation and have not paid yet, such as fees due."
        ),
    ),
    Term(
        "yingfu",
        ("应付", "预提"),
        ("payable", "accrued"),
        _l(
            "Payable: money the organisation owes and has not paid yet, such as bills and "
            "wages due."
        ),
    ),
    Term(
        "huobi",
        ("货币资金",),
        ("cash and bank",),
        _l("Cash and bank: the money in the cash box and in the bank accounts."),
    ),
    Term(
        "cunhuo",
        ("存货", "库存商品", "原材料"),
        ("inventor", "goods"),
        _l(
            "Inventory: goods and materials bought and not yet sold or used. It can never be "
            "below zero."
        ),
    ),
    Term(
        "gudingzichan",
        ("固定资产",),
        ("fixed asset",),
        _l("Fixed assets: buildings, equipment and vehicles used for more than a year."),
    ),
    Term(
        "fuzhai",
        ("负债",),
        ("liabilit",),
        _l("Liabilities: everything the organisation owes to others."),
    ),
    Term(
        "jingzichan",
        ("净资产", "所有者权益", "股东权益"),
        ("net assets", "equity"),
        _l(
            "Net assets: what is left when everything owed is subtracted from "
            "everything owned; it belongs to the members, owners or shareholders."
        ),
    ),
    Term(
        "shishou",
        ("实收资本", "股本"),
        ("paid-in capital", "share capital"),
        _l("Paid-in capital: the money shareholders paid in when they bought their shares."),
    ),
    Term(
        "weifenpei",
        ("未分配利润", "盈余公积", "资本公积"),
        ("retained", "reserve"),
        _l(
            "Retained profit and reserves: profit kept in the enterprise and not "
            "(yet) paid out to shareholders."
        ),
    ),
    Term(
        "yingye",
        ("营业收入", "营业成本", "主营业务", "其他业务"),
        ("operating revenue", "cost of sales", "main business", "other business"),
        _l(
            "Operating revenue and cost: what the main business earned, and what "
            "the goods or services it sold cost."
        ),
    ),
    Term(
        "yingyewai",
        ("营业外",),
        ("non-operating",),
        _l(
            "Non-operating: income or costs outside the normal business, such as a donation "
            "received or a fine paid."
        ),
    ),
    Term(
        "qijianfeiyong",
        ("管理费用", "销售费用", "财务费用"),
        ("administrative", "selling", "finance cost"),
        _l(
            "Administrative, selling and finance costs: the costs of "
            "running the organisation, of selling, and of bank charges and interest."
        ),
    ),
    Term(
        "shuijin",
        ("税金及附加", "所得税", "应交税"),
        ("tax",),
        _l("Taxes: taxes owed or paid; income tax is counted on the profit."),
    ),
    Term(
        "shouyi",
        ("公共收益",),
        ("common-part income", "common income"),
        _l(
            "Common-part income: money earned from the parts of the compound all owners "
            "share (parking, advertising, rent); it belongs to the owners together."
        ),
    ),
    Term(
        "weixiu",
        ("专项维修资金", "维修资金"),
        ("repair fund", "maintenance fund"),
        _l(
            "Repair fund: the owners' money kept for major repairs of shared parts; it "
            "may be spent only on what the owners approve."
        ),
    ),
    Term(
        "shoutuo",
        ("受托代理",),
        ("custodial", "entrusted"),
        _l(
            "Held for others: money or goods the organisation only passes on for someone "
            "else; it is not the organisation's own."
        ),
    ),
    Term(
        "jieyu",
        ("结余",),
        ("surplus", "balance"),
        _l("Surplus: income minus spending; a negative surplus is a deficit."),
    ),
)

_BY_SLUG = {t.slug: t for t in TERMS}


def _english() -> bool:
    return str(get_locale() or "zh").startswith("en")


def find(label: str) -> Term | None:
    """The term a statement line uses: the longest Chinese (or, on an English page, English)
    word of the glossary found in ``label``; a longer word wins."""
    if not label:
        return None
    text = label.lower() if _english() else label
    best: tuple[int, Term] | None = None
    for term in TERMS:
        for word in term.en if _english() else term.zh:
            if word in text and (best is None or len(word) > best[0]):
                best = (len(word), term)
    return best[1] if best else None


def by_slug(slug: str) -> Term | None:
    return _BY_SLUG.get(slug)


def glossed(label: str) -> Markup:
    """``label``, with the explanation of its term folded beneath it (a tap opens it)."""
    term = find(label)
    if term is None:
        return escape(label)
    return Markup(
        '<details class="pub-term"><summary>{label}<span class="pub-q" aria-hidden="true">?</span>'
        '</summary><span class="pub-expl">{text}</span></details>'
    ).format(label=label, text=str(term.text))
