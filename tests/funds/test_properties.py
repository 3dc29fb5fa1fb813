"""Property: any sequence of donations, grants, returns, disbursements and releases (refused
ones included) keeps every fund's statement by this domain's records equal to the ledger's
balances for that fund (the ledger's own fund statement), and no endowment's principal ever
falls below what its donors gave, at any date."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.db import db
from core.errors import DomainError
from funds import services as fs
from ledger import reports

D = dt.date
FIRST = D(2026, 1, 1)

op = st.one_of(
    st.tuples(
        st.just("in"),
        st.integers(0, 3),
        st.sampled_from(["donation", "grant", "return"]),
        st.integers(1, 10**7),
        st.integers(0, 300),
    ),
    st.tuples(
        st.just("out"), st.integers(0, 3), st.just(""), st.integers(1, 10**7), st.integers(0, 300)
    ),
    st.tuples(
        st.just("release"),
        st.integers(0, 3),
        st.just(""),
        st.integers(1, 10**7),
        st.integers(0, 300),
    ),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seeds=st.lists(st.integers(1, 10**6), min_size=4, max_size=4),
    ops=st.lists(op, min_size=1, max_size=12),
)
def test_statements_equal_ledger_and_principal_never_falls(host, seeds, ops):
    funds = [host.pf, host.micro, host.endow, host.free]
    sp = db.session.begin_nested()
    try:
        decisions = {
            cf.id: fs.record_resolution(
                host.org,
                body="committee",
                cf=cf,
                meeting_date=FIRST,
                present=3,
                votes_for=3,
                votes_against=0,
                votes_abstain=0,
                text="年度支出与解除限定",
                actor=host.prep,
            )
            for cf in (host.micro, host.endow)
        }
        project = fs.create_project(
            host.pf,
            title="环境改善",
            start=FIRST,
            end=D(2026, 11, 30),
            proposed_by="社区党委",
            proposed_on=FIRST,
            budget_fen=10**9,
            actor=host.prep,
        )
        vote = fs.record_resolution(
            host.org,
            body="council",
            council=host.council,
            project=project,
            meeting_date=FIRST,
            present=9,
            votes_for=9,
            votes_against=0,
            votes_abstain=0,
            text="通过",
            actor=host.prep,
        )
        fs.advance_project(
            project, to="voted", who="议事会", on=FIRST, resolution=vote, actor=host.prep
        )
        fs.advance_project(project, to="implementation", who="居委会", on=FIRST, actor=host.prep)
        for cf, amount in zip(funds, seeds, strict=True):  # every fund starts with a gift
            fs.record_inflow(
                cf,
                kind="donation",
                amount=amount,
                date=FIRST,
                source_name="发起方",
                actor=host.prep,
            )
        for kind, i, what, amount, day in ops:
            cf = funds[i]
            on = FIRST + dt.timedelta(days=day)
            try:
                with db.session.begin_nested():
                    if kind == "in":
                        fs.record_inflow(
                            cf,
                            kind=what,
                            amount=amount,
                            date=on,
                            source_name="捐赠方",
                            actor=host.prep,
                        )
                    elif kind == "out":
                        fs.disburse(
                            cf,
                            amount=amount,
                            date=on,
                            category_code="activities",
                            purpose=cf.tags[0] if cf.tags else "",
                            payee="承接方",
                            project=project if cf.public_finance else None,
                            resolution=vote if cf.public_finance else decisions.get(cf.id),
                            actor=host.prep,
                        )
                    else:
                        fs.release(
                            cf,
                            amount=amount,
                            date=on,
                            resolution=decisions.get(cf.id) or vote,
                            reason="用途达成",
                            actor=host.prep,
                        )
            except DomainError:
                pass
            for c in fs.check_statements(host.org):
                assert c.ok, (c.cf.fund.code, c.records, c.ledger, c.principal)
        # the ledger's own fund statement agrees with the records, and at every date the
        # endowment holds at least its principal
        st_ = reports.fund_statement(host.book, start=FIRST, end=D(2026, 12, 31))
        by_fund = {r.fund.id: r for r in st_.rows}
        for c in fs.check_statements(host.org):
            assert by_fund[c.cf.fund_id].closing == c.records
            assert by_fund[c.cf.fund_id].consistent
        for day in sorted({d for _k, _i, _w, _a, d in ops}):
            on = FIRST + dt.timedelta(days=day)
            bal = fs.positions(host.book, [host.endow.fund_id], on)[host.endow.fund_id].balance
            assert bal >= fs.principal(host.endow, on)
    finally:
        sp.rollback()
