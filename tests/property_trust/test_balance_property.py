"""Property test: any sequence of billing runs, payments (full, partial, over-payments kept as
advances) keeps every unit's open balance equal to the ledger's 1122 and 2203 per owner."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.db import db
from core.errors import InvalidInput
from core.months import Month
from property_trust import services as pt
from tests.factories import OrganisationFactory
from tests.property_trust.conftest import make_trust

step = st.one_of(
    st.tuples(st.just("bill")),
    st.tuples(
        st.just("pay"),
        st.integers(0, 3),  # unit
        st.integers(1, 80_000),  # fen
        st.booleans(),  # advance chosen
    ),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(step, min_size=1, max_size=14))
def test_unit_balances_equal_the_ledger_per_owner(app, steps):
    nested = db.session.begin_nested()
    try:
        t = make_trust(OrganisationFactory, n_units=4)
        c, prep = t.compound, t.people["preparer"]
        month = Month(2026, 1)
        billed = 0
        for s in steps:
            if s[0] == "bill":
                if month.key > 202611:
                    continue
                pt.bill_month(c, month, actor=prep)
                billed += 1
                month = month.next()
            else:
                _, i, amount, advance = s
                u = t.units[i]
                day = dt.date(2026, min(month.previous().month if billed else 1, 11), 20)
                owed = sum(b.open for b in pt.open_bills(u))
                try:
                    pt.record_payment(c, u, amount, day, actor=prep, advance=advance)
                except InvalidInput:
                    assert amount > owed and not advance
            assert pt.check_consistency(c) == []
            for u in t.units:
                open_, adv = pt.unit_balances(c).get(u.id, (0, 0))
                assert open_ >= 0 and adv >= 0
                assert not (open_ and adv)  # an advance never sits beside an open bill
    finally:
        nested.rollback()
