"""Property (issue 10, Proof): any sequence of subscriptions, payments, transfers, dividends
and dividend payments keeps the register equal to the books — paid-in capital per
shareholder = 3001 per counterparty, declared unpaid dividends = 2232 — at every date. A
refused step stores nothing and is simply skipped."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.db import db
from core.errors import DomainError
from shareholders import services as ssvc
from tests.shareholders.conftest import D, make_setting

N = 5
who = st.integers(0, N - 1)
fen = st.integers(1, 30_000_00)
ops = st.one_of(
    st.tuples(st.just("sub"), who, fen),
    st.tuples(st.just("pay"), who, fen),
    st.tuples(st.just("xfer"), who, who, fen),
    st.tuples(st.just("out"), who, fen, st.booleans()),
    st.tuples(st.just("div"), st.integers(1, 5_000_00)),
    st.tuples(st.just("paydiv"), st.integers(0, 40)),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(ops, min_size=1, max_size=12))
def test_register_always_equals_3001_and_2232(app, steps):
    sp = db.session.begin_nested()
    try:
        s = make_setting(capital=100_000_00, n_residents=N + 1)
        s.profit(2024, 30_000_00)
        org, admin = s.org, s.admin
        day = D(2025, 1, 1)
        dates = [D(2024, 12, 31)]
        for k, op in enumerate(steps):
            day = D(2025, 1, 1) + dt.timedelta(days=40 * k)
            dates.append(day)
            try:
                with db.session.begin_nested():
                    kind = op[0]
                    if kind == "sub":
                        ssvc.subscribe(
                            org, s.holder(op[1]), amount=op[2], date=day, due_date=day, actor=admin
                        )
                    elif kind == "pay":
                        ssvc.pay_in(org, s.holder(op[1]), amount=op[2], date=day, actor=admin)
                    elif kind == "xfer":
                        ssvc.propose_transfer(
                            org,
                            s.holder(op[1]),
                            buyer=s.holder(op[2]),
                            amount=op[3],
                            price=0,
                            date=day,
                            actor=admin,
                        )
                    elif kind == "out":
                        t, _ = ssvc.propose_transfer(
                            org,
                            s.holder(op[1]),
                            outsider_resident=s.residents[N],
                            amount=op[2],
                            price=op[2],
                            date=day,
                            actor=admin,
                        )
                        if op[3]:
                            for h in ssvc.holders(org, day)[:2]:
                                if h.shareholder.id != t.seller_id and h.paid_in:
                                    ssvc.claim_preemption(
                                        org, t, h.shareholder, date=day, actor=admin
                                    )
                        ssvc.complete_transfer(
                            org, t, date=day + dt.timedelta(days=31), actor=admin
                        )
                    elif kind == "div":
                        fig = ssvc.dividend_figures(org, profit_year=2024, date=day)
                        ssvc.declare_dividend(
                            org,
                            resolution_date=day,
                            record_date=day,
                            profit_year=2024,
                            amount=op[1],
                            reserve=fig.reserve_required,
                            actor=admin,
                            today=day,
                        )
                    else:
                        lines = [
                            ln for r in ssvc.dividends(org) for ln in r.lines if ln.paid_on is None
                        ]
                        if lines:
                            ssvc.pay_dividend(
                                org, lines[op[1] % len(lines)], date=day, actor=admin, today=day
                            )
            except DomainError:
                pass
        for d in [*dates, day + dt.timedelta(days=40), None]:
            assert ssvc.check_register(org, d) == [], (d, steps)
        hs = ssvc.holdings(org).values()
        assert ssvc.account_balance(s.book, "3001") == sum(h.paid_in for h in hs)
        assert ssvc.account_balance(s.book, "2232") == sum(
            h.dividends_declared - h.dividends_paid for h in hs
        )
        for h in hs:
            assert 0 <= h.paid_in <= h.subscribed or (h.paid_in == 0 and h.subscribed == 0)
    finally:
        sp.rollback()
