# SPDX-License-Identifier: AGPL-3.0-or-later
"""Owners' votes (民法典 第278条, DOMAIN.md TP-8): the one decision the UI, the API and the tests use.

Quorum: owners holding at least two thirds of the exclusive area AND at least two thirds of the
owners take part ("三分之二以上", the boundary included). A *major* item (278 items 6–8: raising the
repair fund, rebuilding, changing the use of common parts) then needs at least three quarters of the
participating area and of the participating owners ("四分之三以上", boundary included); an
*ordinary* item needs more than half of each ("过半数", the boundary excluded).

Areas are Decimal (or decimal strings); every comparison is exact: a ≥ p/q is a·q ≥ p·b in
Decimal arithmetic on the given digits, so no float and no rounding is ever involved.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from core.errors import InvalidInput


class VoteKind(enum.StrEnum):
    MAJOR = "major"  # 278 (6)–(8): ≥ 3/4
    ORDINARY = "ordinary"  # other items: > 1/2


@dataclass(frozen=True)
class Decision:
    kind: VoteKind
    passed: bool
    quorum_met: bool
    threshold_met: bool
    reasons: list = field(default_factory=list)  # lazy translated strings


def _area(value, name: str) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidInput(
            _l("%(name)s must be a decimal area, not a floating-point number.", name=name),
            errors={name: [str(_l("Not a decimal."))]},
        )
    try:
        d = Decimal(str(value).strip()) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidInput(
            _l("%(name)s is not an area in m².", name=name),
            errors={name: [str(_l("Not a decimal."))]},
        ) from None
    if not d.is_finite() or d < 0:
        raise InvalidInput(
            _l("%(name)s must be a non-negative area in m².", name=name),
            errors={name: [str(_l("Not a non-negative decimal."))]},
        )
    return d


def _count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(
            _l("%(name)s must be a whole number of owners.", name=name),
            errors={name: [str(_l("Not a whole number."))]},
        )
    return value


def check_tallies(
    total_area, total_owners, voted_area, voted_owners, yes_area, yes_owners
) -> tuple[Decimal, int, Decimal, int, Decimal, int]:
    """The tallies as exact values, or InvalidInput naming the rule and the figures."""
    ta, va, ya = (
        _area(total_area, "total_area"),
        _area(voted_area, "voted_area"),
        _area(yes_area, "yes_area"),
    )
    to, vo, yo = (
        _count(total_owners, "total_owners"),
        _count(voted_owners, "voted_owners"),
        _count(yes_owners, "yes_owners"),
    )
    if ta <= 0 or to <= 0:
        raise InvalidInput(
            _l("The compound has no exclusive area or no owners; there is nothing to vote on."),
            errors={"total_area": [str(_l("Must be positive."))]},
        )
    errors: dict[str, list[str]] = {}
    first = None

    def add(key, msg):
        nonlocal first
        errors.setdefault(key, []).append(str(msg))
        first = first or msg

    if va > ta:
        add(
            "voted_area",
            _l(
                "The area that voted (%(voted)s m²) exceeds the compound's exclusive area (%(total)s m²).",
                voted=va,
                total=ta,
            ),
        )
    if vo > to:
        add(
            "voted_owners",
            _l(
                "The owners who voted (%(voted)d) exceed the compound's owners (%(total)d).",
                voted=vo,
                total=to,
            ),
        )
    if ya > va:
        add(
            "yes_area",
            _l(
                "The area voting yes (%(yes)s m²) exceeds the area that voted (%(voted)s m²).",
                yes=ya,
                voted=va,
            ),
        )
    if yo > vo:
        add(
            "yes_owners",
            _l(
                "The owners voting yes (%(yes)d) exceed the owners who voted (%(voted)d).",
                yes=yo,
                voted=vo,
            ),
        )
    if errors:
        raise InvalidInput(first, errors=errors)
    return ta, to, va, vo, ya, yo


def decide(
    kind, total_area, total_owners, voted_area, voted_owners, yes_area, yes_owners
) -> Decision:
    """Pass or fail of an owners' vote, with its reasons (translated, lazy)."""
    try:
        k = VoteKind(kind)
    except ValueError:
        raise InvalidInput(
            _l("Unknown kind of vote: %(kind)s (major or ordinary).", kind=str(kind)[:20]),
            errors={"kind": [str(_l("Unknown."))]},
        ) from None
    ta, to, va, vo, ya, yo = check_tallies(
        total_area, total_owners, voted_area, voted_owners, yes_area, yes_owners
    )
    reasons = []
    quorum_area = va * 3 >= ta * 2
    quorum_owners = vo * 3 >= to * 2
    if not quorum_area:
        reasons.append(
            _l(
                "No quorum: %(voted)s of %(total)s m² took part, less than two thirds.",
                voted=va,
                total=ta,
            )
        )
    if not quorum_owners:
        reasons.append(
            _l(
                "No quorum: %(voted)d of %(total)d owners took part, less than two thirds.",
                voted=vo,
                total=to,
            )
        )
    quorum = quorum_area and quorum_owners
    if k is VoteKind.MAJOR:
        by_area = ya * 4 >= va * 3 and va > 0
        by_owners = yo * 4 >= vo * 3 and vo > 0
        if not by_area:
            reasons.append(
                _l(
                    "Area: %(yes)s of %(voted)s m² voted yes, less than three quarters.",
                    yes=ya,
                    voted=va,
                )
            )
        if not by_owners:
            reasons.append(
                _l(
                    "Owners: %(yes)d of %(voted)d voted yes, less than three quarters.",
                    yes=yo,
                    voted=vo,
                )
            )
    else:
        by_area = ya * 2 > va
        by_owners = yo * 2 > vo
        if not by_area:
            reasons.append(
                _l(
                    "Area: %(yes)s of %(voted)s m² voted yes, not more than half.",
                    yes=ya,
                    voted=va,
                )
            )
        if not by_owners:
            reasons.append(
                _l(
                    "Owners: %(yes)d of %(voted)d voted yes, not more than half.",
                    yes=yo,
                    voted=vo,
                )
            )
    threshold = by_area and by_owners
    passed = quorum and threshold
    if passed:
        reasons.append(
            _l("Passed: quorum met and the majority required for this kind of item reached.")
        )
    return Decision(
        kind=k, passed=passed, quorum_met=quorum, threshold_met=threshold, reasons=reasons
    )
