# SPDX-License-Identifier: AGPL-3.0-or-later
"""Checks a report's statements pass before they are published (issue 14 item 6).

A published report never changes, so what a resident would read as a mistake is caught
before: a negative balance on a line that cannot be negative (cash, inventory, fixed assets:
"存货 −5,210.20" means the books are wrong, not that the shop owes goods), and a balance sheet
whose two totals differ. The publisher is told which lines; publishing anyway needs a note,
which appears on the public page with the warnings it answers.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from core.errors import Conflict, InvalidInput
from core.i18n import amount
from core.parse import text_problem
from core.privacy import check_free_text

# Balance-sheet lines (by layout key, every chart) whose amount is never negative in
# correct books: money held, goods held, the cost and the carrying amount of fixed assets.
NEVER_NEGATIVE = frozenset(
    {
        "cash",
        "repair_fund_cash",
        "inventories",
        "fixed_assets_cost",
        "fixed_assets_net",
        "fixed_assets_carrying_amount",
        "total_fixed_assets",
    }
)
NOTE_MAX_CHARS = 2000


@dataclass(frozen=True)
class SanityWarning:
    kind: str  # negative | unbalanced
    statement_zh: str
    statement_en: str
    line_no: int | None
    label_zh: str
    label_en: str
    amount: int
    other_label_zh: str = ""
    other_label_en: str = ""
    other_amount: int = 0

    def text(self) -> str:
        """The warning in the request's language, naming the statement line."""
        en = str(get_locale() or "zh").startswith("en")
        statement = self.statement_en if en else self.statement_zh
        label = self.label_en if en else self.label_zh
        if self.kind == "negative":
            return str(
                _l(
                    "%(statement)s, line %(line)s “%(label)s” is %(amount)s: this balance "
                    "cannot be negative.",
                    statement=statement,
                    line=self.line_no if self.line_no is not None else "–",
                    label=label,
                    amount=amount(self.amount),
                )
            )
        return str(
            _l(
                "%(statement)s does not balance: “%(left)s” %(left_amount)s, “%(right)s” "
                "%(right_amount)s.",
                statement=statement,
                left=label,
                left_amount=amount(self.amount),
                right=self.other_label_en if en else self.other_label_zh,
                right_amount=amount(self.other_amount),
            )
        )


def sanity_warnings(bundle: dict) -> list[SanityWarning]:
    """What a resident would read as a mistake in the bundle's statements."""
    out: list[SanityWarning] = []
    for st in bundle.get("statements") or []:
        if st.get("statement") != "balance_sheet":
            continue
        title_zh, title_en = (
            st.get("title_zh") or "资产负债表",
            st.get("title_en") or "Balance sheet",
        )
        lines = st.get("lines") or []
        for ln in lines:
            if ln.get("key") in NEVER_NEGATIVE and (ln.get("amount") or 0) < 0:
                out.append(
                    SanityWarning(
                        "negative",
                        title_zh,
                        title_en,
                        ln.get("line_no"),
                        ln.get("label_zh") or ln["key"],
                        ln.get("label_en") or ln["key"],
                        ln["amount"],
                    )
                )
        totals = [ln for ln in lines if ln.get("kind") == "total" and not ln.get("memo")]
        left = [ln for ln in totals if ln.get("side") == "left"]
        right = [ln for ln in totals if ln.get("side") == "right"]
        pair = (
            (left[-1], right[-1])
            if left and right
            else (totals[0], totals[-1])
            if len(totals) >= 2
            else None
        )
        if pair and (pair[0].get("amount") or 0) != (pair[1].get("amount") or 0):
            a, b = pair
            out.append(
                SanityWarning(
                    "unbalanced",
                    title_zh,
                    title_en,
                    a.get("line_no"),
                    a.get("label_zh") or a["key"],
                    a.get("label_en") or a["key"],
                    a.get("amount") or 0,
                    b.get("label_zh") or b["key"],
                    b.get("label_en") or b["key"],
                    b.get("amount") or 0,
                )
            )
    return out


def require_note(warnings: list[SanityWarning], note: str | None, community_id: int) -> str | None:
    """The note to store: None when nothing was found; refuses publishing a report with
    warnings but no note (409, the lines named), and a note that is unfit to be public."""
    note = (note or "").strip() or None
    if note is not None:
        problem = text_problem(note)
        if problem:
            raise InvalidInput(errors={"note": [problem]})
        if len(note) > NOTE_MAX_CHARS:
            raise InvalidInput(errors={"note": [_l("At most %(n)d characters.", n=NOTE_MAX_CHARS)]})
        if check_free_text(community_id, note):
            raise InvalidInput(
                errors={
                    "note": [
                        _l(
                            "The note is shown on the public page: it must not name a "
                            "resident or carry a phone number, ID number or room."
                        )
                    ]
                }
            )
    if warnings and note is None:
        raise Conflict(
            _l(
                "Checked before publishing: %(problems)s Correct the books first; to publish "
                "anyway, add a note explaining it (the note and these lines appear on the "
                "public page).",
                problems=" ".join(w.text() for w in warnings),
            ),
            code="needs_note",
            errors={"note": [w.text() for w in warnings]},
        )
    return note


def warnings_json(warnings: list[SanityWarning]) -> str | None:
    return json.dumps([asdict(w) for w in warnings], ensure_ascii=False) if warnings else None


def stored_warnings(text: str | None) -> list[SanityWarning]:
    return [SanityWarning(**w) for w in json.loads(text)] if text else []
