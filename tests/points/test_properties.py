"""A property test over random grants, redemptions (local and exchanged), expiries and
settlements. After every step: no holder is negative, holders' sum = the control account
(and the lots) in every scheme, exchanges convert at the stated rate, and every book's
trial balance is zero in every unit. Each example runs in a SAVEPOINT rolled back after it."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, Decimal

import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from core.db import db
from core.errors import DomainError
from ledger.models import AccountPeriodBalance
from points import services as svc
from points.models import PointHolding
from tests.points.conftest import build_world, credited

TODAY = dt.date.today()

steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("grant"),
            st.integers(0, 3),
            st.integers(1, 40),
            st.integers(0, 900),
            st.booleans(),
        ),
        st.tuples(
            st.just("redeem"), st.integers(0, 3), st.integers(-2, 25), st.just(0), st.booleans()
        ),
        st.tuples(
            st.just("exchange"), st.integers(0, 3), st.integers(1, 30), st.just(0), st.just(False)
        ),
        st.tuples(st.just("expire"), st.just(0), st.just(0), st.integers(0, 900), st.just(False)),
    ),
    min_size=1,
    max_size=12,
)


def check(w) -> None:
    negatives = db.session.scalar(sa.select(sa.func.count()).where(PointHolding.balance < 0))
    assert negatives == 0
    for issuer in (w.issuer, w.other_issuer):
        for rec in svc.reconcile(issuer.id, deep=True):
            assert rec.ok, (rec.scheme, rec.problems)
    t = AccountPeriodBalance
    for book_id, unit, dr, cr in db.session.execute(
        sa.select(t.book_id, t.unit, sa.func.sum(t.debit), sa.func.sum(t.credit)).group_by(
            t.book_id, t.unit
        )
    ):
        assert dr == cr, (book_id, unit)


@settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(plan=steps)
def test_points_stay_reconciled(app, plan):
    nested = db.session.begin_nested()
    try:
        w = build_world("hp")
        for kind, who, n, days_ago, sale in plan:
            r = w.residents[who]
            try:
                if kind == "grant":
                    credited(
                        w,
                        [r],
                        points=n,
                        day=TODAY - dt.timedelta(days=days_ago),
                        scheme=w.sale if sale else None,
                    )
                elif kind == "redeem":
                    item = w.item
                    svc.redeem(item, r.id, n, actor=w.staff)
                elif kind == "exchange":
                    before = svc.balance(w.service, r.id)
                    red = svc.redeem(w.other_item, r.id, n, scheme=w.service, actor=w.other_staff)
                    expected = int((Decimal(n) * Decimal("0.8")).to_integral_value(ROUND_DOWN))
                    assert red.target_points == expected
                    assert (
                        red.value_fen == expected * w.other_scheme.value_fen == red.settlement_fen
                    )
                    assert red.cash_fen + red.value_fen == w.other_item.price_fen
                    assert svc.balance(w.service, r.id) == before - n
                elif kind == "expire":
                    svc.expire(w.service, TODAY - dt.timedelta(days=days_ago), actor=None)
            except DomainError:
                pass  # a refusal stores nothing: the checks below still hold
            check(w)
    finally:
        nested.rollback()
