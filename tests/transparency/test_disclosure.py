"""Disclosure reports: publishing rules, the bundle's arithmetic and its proofs (FORMAT.md §3).

Every bundle is re-checked here the way an outside verifier would: the root is folded from the
compact range and the records, carried records are proved against the new checkpoint, the
closing balances are opening + records, and the statement lines are recomputed.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import io
import json
from collections import defaultdict
from decimal import Decimal

import pytest
import sqlalchemy as sa

from core.db import ImmutableRowError, db
from core.errors import Conflict, InvalidInput, NotPermitted
from ledger import charts
from ledger import services as svc
from ledger.models import Account
from tests.ledger.conftest import lines
from tests.transparency.helpers import checkpoint_of
from tlog import merkle, notes
from transparency.checkpoints import LogInconsistent
from transparency.disclosure import publish_report, used_records
from transparency.models import DisclosureReport

D = dt.date
# The ledger's fixtures (a book, one user per role, posting through maker-checker).


pytestmark = pytest.mark.usefixtures("english")  # these tests match the English messages


def close(book, people, *months):
    for y, m in months:
        svc.close_period(book, y, m, actor=people["reviewer"])


@pytest.fixture
def spring(book, acct, post, people):
    """An SME book: March and April 2025 closed, May open; a May voucher is posted early."""
    a = {c: acct(c) for c in ("1001", "1002", "3001", "5001", "2221", "5602", "1122")}
    v = {}
    v["capital"] = post(
        lines((a["1002"], 50_000_00, 0), (a["3001"], 0, 50_000_00)), date=D(2025, 3, 2)
    )
    v["sale"] = post(
        lines((a["1002"], 11_300_00, 0), (a["5001"], 0, 10_000_00), (a["2221"], 0, 1_300_00)),
        date=D(2025, 3, 9),
        summary="便民超市销售",
    )
    v["may"] = post(
        lines((a["5602"], 300_00, 0), (a["1001"], 0, 300_00)),
        date=D(2025, 5, 6),
        summary="五月预付",
    )
    v["rent"] = post(lines((a["5602"], 2_000_00, 0), (a["1002"], 0, 2_000_00)), date=D(2025, 3, 20))
    v["april"] = post(
        lines((a["1122"], 5_000_00, 0), (a["5001"], 0, 5_000_00)), date=D(2025, 4, 11)
    )
    v["cash"] = post(lines((a["1001"], 800_00, 0), (a["1002"], 0, 800_00)), date=D(2025, 4, 15))
    close(book, people, (2025, 3), (2025, 4))
    return v


def b64d(items):
    return [base64.b64decode(x) for x in items]


def leaf(record: dict) -> bytes:
    import rfc8785

    return merkle.leaf_hash(rfc8785.dumps(record))


def check_bundle(bundle: dict, previous: dict | None = None) -> dict:
    """What a verifier does, written out independently of transparency.disclosure; then the
    project's standalone verifier must agree (with the key given by its fingerprint)."""
    from transparency import verify

    report, _ = verify.verify_bundle(
        bundle, previous=previous, key=verify.parse_key(json.dumps(bundle["public_key"]))
    )
    # Fully checked with the previous report (or for a book's first); otherwise only the
    # comparison with the previous report is missing.
    complete = previous is not None or bundle["previous"] is None
    assert report.exit_code == (0 if complete else 3), report.text()
    assert complete or {c.check for c in report.incomplete} == {"opening_balances"}
    assert bundle["format"] == "commons-ledger/disclosure/1"
    key = bundle["public_key"]
    public = base64.b64decode(key["ed25519"])
    assert key["fingerprint"] == hashlib.sha256(public).hexdigest()
    body = notes.verify_note(bundle["checkpoint"], key["name"], public)
    origin, size, root = checkpoint_of(bundle["checkpoint"])
    assert origin == f"localhost/commons-ledger/{bundle['book']['id']}" == key["name"]
    assert body == notes.format_checkpoint(origin, size, root)
    # The log: compact range + the period's records fold to the signed root.
    lg = bundle["log"]
    frontier = b64d(lg["compact_range"])
    n = lg["first_index"]
    assert len(frontier) == n.bit_count()
    for i, rec in enumerate(lg["records"]):
        assert rec["index"] == lg["first_index"] + i
        frontier = merkle.compact_range_append(frontier, n, leaf(rec))
        n += 1
    assert n == size
    assert merkle.root_from_compact_range(frontier) == root
    for c in bundle["carried_records"]:
        merkle.verify_inclusion(
            leaf(c["record"]), c["record"]["index"], size, b64d(c["inclusion_proof"]), root
        )
        assert c["record"]["index"] < lg["first_index"]
    # The chain to the previous report.
    if previous is not None:
        _, old_size, old_root = checkpoint_of(previous["checkpoint"])
        assert bundle["previous"]["checkpoint"] == previous["checkpoint"]
        assert lg["first_index"] == old_size
        merkle.verify_consistency(
            old_size, size, old_root, root, b64d(bundle["previous"]["consistency_proof"])
        )
        assert bundle["opening_balances"] == previous["closing_balances"]
        pending = [
            r
            for r in (
                *[c["record"] for c in previous["carried_records"]],
                *previous["log"]["records"],
            )
            if r["date"] > previous["period"]["end"]
        ]
        assert [c["record"] for c in bundle["carried_records"]] == sorted(
            pending, key=lambda r: r["index"]
        )
    else:
        assert (
            bundle["previous"] is None
            and bundle["opening_balances"] == []
            and lg["first_index"] == 0
        )
    # Balances: closing = opening + Σ records used for the period.
    end = bundle["period"]["end"]
    used = [
        r
        for r in (*lg["records"], *[c["record"] for c in bundle["carried_records"]])
        if r["date"] <= end
    ]
    closing = defaultdict(int)
    for e in bundle["opening_balances"]:
        closing[(e["account"], e["fund"], e["unit"])] += e["balance"]
    for r in used:
        for ln in r["lines"]:
            closing[(ln["account"], ln["fund"], ln["unit"])] += ln["debit"] - ln["credit"]
    got = {(e["account"], e["fund"], e["unit"]): e["balance"] for e in bundle["closing_balances"]}
    assert got == {k: v for k, v in closing.items() if v}
    # Statements: every line recomputed from the bundle's own definitions (parent roll-up).
    side = {a["code"]: a["normal_side"] for a in bundle["accounts"]}
    parent = {a["code"]: a["parent"] for a in bundle["accounts"]}
    movements = defaultdict(int)
    for r in used:
        if r["kind"] == "closing":
            continue
        for ln in r["lines"]:
            movements[(ln["account"], ln["fund"], ln["unit"])] += ln["debit"] - ln["credit"]
    for st in bundle["statements"]:
        source = closing if st["statement"] == "balance_sheet" else movements
        rolled = defaultdict(int)
        for (code, _fund, unit), value in source.items():
            if unit != "CNY":
                continue
            value = value if side[code] == "debit" else -value
            c = code
            while c is not None:
                rolled[c] += value
                c = parent[c]
        by_key = {ln["key"]: ln for ln in st["lines"]}
        for ln in st["lines"]:
            if ln["kind"] == "heading":
                assert ln["amount"] is None
            else:
                assert ln["amount"] == line_amount(by_key, rolled, ln["key"]), (
                    st["statement"],
                    ln["key"],
                )
    return {"size": size, "root": root, "closing": got, "used": used}


def line_amount(by_key: dict, rolled: dict, key: str) -> int:
    ln = by_key[key]
    if ln["kind"] == "item":
        return sum(a["sign"] * rolled[a["code"]] for a in ln["accounts"])
    return sum(
        -line_amount(by_key, rolled, t[1:]) if t.startswith("-") else line_amount(by_key, rolled, t)
        for t in ln["sum"]
    )


def publish(book, people, start, end=None, who="reviewer"):
    report = publish_report(book, start, end, actor=people[who])
    return report, json.loads(report.bundle)


def totals(bundle, statement):
    st = next(s for s in bundle["statements"] if s["statement"] == statement)
    return {ln["key"]: ln["amount"] for ln in st["lines"]}


# --- the bundle ---------------------------------------------------------------------------------


def test_first_report_bundle_verifies_and_balances(app, book, people, spring):
    report, bundle = publish(book, people, "2025-03")
    facts = check_bundle(bundle)
    assert report.bundle_sha256 == hashlib.sha256(report.bundle.encode()).hexdigest()
    assert bundle["period"] == {"start": "2025-03-01", "end": "2025-03-31"}
    assert bundle["book"]["id"] == book.id and bundle["book"]["chart"] == "SME_2011"
    # The log holds every record posted so far; only March's are used.
    assert facts["size"] == 6 and len(bundle["log"]["records"]) == 6
    assert sorted(r["summary"] for r in facts["used"]) == sorted(
        ["测试凭证", "便民超市销售", "测试凭证"]
    )
    assert facts["closing"][("1002", None, "CNY")] == 50_000_00 + 11_300_00 - 2_000_00
    bs = totals(bundle, "balance_sheet")
    assert (
        bs["total_assets"] == bs["total_liabilities_and_equity"] == 50_000_00 + 11_300_00 - 2_000_00
    )
    income = totals(bundle, "income_statement")
    assert income["operating_revenue"] == 10_000_00 and income["net_profit"] == 10_000_00 - 2_000_00
    # Statements are the layouts' lines, in order, with an amount.
    layout = charts.load_layout("SME_2011", "balance_sheet")
    st = bundle["statements"][0]
    assert [ln["key"] for ln in st["lines"]] == [ln.key for ln in layout.lines]
    assert st["form_code"] == layout.form_code


def test_next_report_chains_to_the_previous_and_carries_later_records(
    app, book, people, spring, acct, post
):
    _, march = publish(book, people, "2025-03")
    # A record posted after the March report, dated in May (open): in April's log, carried on.
    late = post(lines((acct("1001"), 100_00, 0), (acct("1002"), 0, 100_00)), date=D(2025, 5, 20))
    report, april = publish(book, people, "2025-04")
    facts = check_bundle(april, previous=march)
    assert report.previous_id is not None
    assert [r["index"] for r in april["log"]["records"]] == [late.log_index]
    carried = [c["record"]["summary"] for c in april["carried_records"]]
    assert len(carried) == 3 and "五月预付" in carried  # April's two and May's early one
    assert facts["closing"][("1002", None, "CNY")] == 50_000_00 + 11_300_00 - 2_000_00 - 800_00
    assert totals(april, "income_statement")["operating_revenue"] == 5_000_00


def test_a_record_is_carried_through_several_reports_until_its_month(app, book, people, spring):
    _, march = publish(book, people, "2025-03")
    _, april = publish(book, people, "2025-04")
    close(book, people, (2025, 5))
    _, may = publish(book, people, "2025-05")
    check_bundle(may, previous=april)
    # The early May voucher was in March's log, pending in March and April, used in May.
    assert [c["record"]["summary"] for c in may["carried_records"]] == ["五月预付"]
    assert may["log"]["records"] == []
    assert may["previous"]["consistency_proof"] == []  # nothing was posted since April's checkpoint
    assert totals(may, "income_statement")["administrative_expenses"] == 300_00


def test_one_report_may_cover_several_months(app, book, people, spring):
    report, bundle = publish(book, people, "2025-03", "2025-04")
    check_bundle(bundle)
    assert bundle["period"] == {"start": "2025-03-01", "end": "2025-04-30"}
    assert report.label == "2025-03 – 2025-04"
    assert totals(bundle, "income_statement")["operating_revenue"] == 15_000_00


def test_the_periods_page_links_the_published_reports_of_each_month(
    app, client_as, organisation, book, people, spring
):
    report, _bundle = publish(book, people, "2025-03", "2025-04")
    db.session.commit()
    page = client_as("auditor").get(f"/books/{organisation.id}/periods").get_data(as_text=True)
    rows = {m: page.split(f">{m}</a>", 1)[1].split("</tr>", 1)[0] for m in ("2025-03", "2025-05")}
    assert f"/public/r/{report.id}.pdf" in rows["2025-03"] and "报告 2025-03 – 2025-04" in page
    assert "/public/r/" not in rows["2025-05"]  # May is in no report


def test_closing_entries_are_left_out_of_the_period_movements(app, organisation, people):
    """December with year-end closing (年末结转): revenue still shows on the income statement."""
    ppl = people
    bk = svc.create_book(organisation)

    def code(c):
        return db.session.scalar(
            sa.select(Account).where(Account.book_id == bk.id, Account.code == c)
        )

    v = svc.create_voucher(
        bk,
        svc.VoucherInput(
            D(2024, 12, 5),
            "年末销售",
            lines((code("1002"), 7_000_00, 0), (code("5001"), 0, 7_000_00)),
        ),
        actor=ppl["preparer"],
    )
    svc.submit_voucher(v, actor=ppl["preparer"])
    svc.approve_voucher(v, actor=ppl["reviewer"])
    svc.post_voucher(v, actor=ppl["reviewer"])
    svc.generate_year_end_closing(bk, 2024, actor=ppl["reviewer"])
    svc.close_period(bk, 2024, 12, actor=ppl["reviewer"])
    _, bundle = publish(bk, ppl, "2024-12")
    check_bundle(bundle)
    assert {r["kind"] for r in bundle["log"]["records"]} == {"normal", "closing"}
    assert totals(bundle, "income_statement")["operating_revenue"] == 7_000_00
    bs = totals(bundle, "balance_sheet")
    assert bs["total_assets"] == bs["total_liabilities_and_equity"] == 7_000_00


def test_a_book_with_a_custom_chart_has_no_statements(app, organisation, people):
    bk = svc.create_book(organisation, chart="CUSTOM")
    accts = []
    for code, typ, side in (("1002", "asset", "debit"), ("4001", "revenue", "credit")):
        a = Account(
            community_id=bk.community_id,
            book_id=bk.id,
            code=code,
            name_zh=code,
            name_en=code,
            type=typ,
            normal_side=side,
            level=1,
        )
        db.session.add(a)
        accts.append(a)
    db.session.flush()
    v = svc.create_voucher(
        bk,
        svc.VoucherInput(D(2025, 1, 3), "导入", lines((accts[0], 100, 0), (accts[1], 0, 100))),
        actor=people["preparer"],
    )
    svc.submit_voucher(v, actor=people["preparer"])
    svc.approve_voucher(v, actor=people["reviewer"])
    svc.post_voucher(v, actor=people["reviewer"])
    close(bk, people, (2025, 1))
    _, bundle = publish(bk, people, "2025-01")
    check_bundle(bundle)
    assert bundle["statements"] == []
    assert bundle["book"]["chart"] == "CUSTOM"


def test_reversal_records_point_at_the_original(app, book, people, spring):
    red = svc.reverse_voucher(spring["rent"], actor=people["preparer"], date=D(2025, 5, 2))
    svc.submit_voucher(red, actor=people["preparer"])
    svc.approve_voucher(red, actor=people["reviewer"])
    svc.post_voucher(red, actor=people["reviewer"])
    _, bundle = publish(book, people, "2025-03")
    rec = next(r for r in bundle["log"]["records"] if r["kind"] == "reversal")
    assert rec["reverses"] == spring["rent"].log_index
    assert rec["lines"][0]["debit"] == -2_000_00


def test_bundle_statements_match_the_ledger_reports(app, book, people, spring):
    """Two independent paths to the same figures: the bundle (from the log's records) and
    ledger.reports (from the per-period balances table)."""
    from ledger.reports import balance_sheet, income_statement

    _, bundle = publish(book, people, "2025-03", "2025-04")
    bs = balance_sheet(book, as_of=D(2025, 4, 30))
    income = income_statement(book, start=D(2025, 3, 1), end=D(2025, 4, 30))
    ours_bs, ours_income = totals(bundle, "balance_sheet"), totals(bundle, "income_statement")
    for ln in bs.lines:
        if ln.kind != "heading":
            assert ours_bs[ln.key] == bs.amount(ln.key, "period_end"), ln.key
    for ln in income.lines:
        # a 其中 line the book cannot fill is "—" (None) in ledger.reports, 0 in the bundle
        if ln.kind != "heading" and income.amount(ln.key, "current_month") is not None:
            assert ours_income[ln.key] == income.amount(ln.key, "current_month"), ln.key
    assert ours_bs["total_assets"] == bs.amount("total_assets", "period_end") != 0


# --- publishing rules ----------------------------------------------------------------------------


def count_reports(book):
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(DisclosureReport)
        .where(DisclosureReport.book_id == book.id)
    )


def test_an_open_period_is_refused_with_a_clear_message(app, book, people, spring):
    with pytest.raises(Conflict) as e:
        publish(book, people, "2025-05")
    assert "2025-05 is not closed yet" in str(e.value.message)
    assert e.value.status == 409
    with pytest.raises(Conflict, match="2025-05 is not closed"):
        publish(book, people, "2025-03", "2025-05")
    assert count_reports(book) == 0


def test_a_second_report_over_the_same_period_is_refused(app, book, people, spring):
    publish(book, people, "2025-03", "2025-04")
    for start, end in (("2025-03", None), ("2025-04", None), ("2025-03", "2025-04")):
        with pytest.raises(Conflict, match="already been published") as e:
            publish(book, people, start, end)
        assert e.value.status == 409
    assert count_reports(book) == 1


def test_reports_follow_each_other_without_gaps(app, book, people, spring):
    publish(book, people, "2025-03")
    close(book, people, (2025, 5))
    with pytest.raises(Conflict, match="starts at 2025-04"):
        publish(book, people, "2025-05")


def test_the_first_report_starts_at_the_first_record(app, book, people, spring):
    with pytest.raises(Conflict, match="start at 2025-03 or earlier"):
        publish(book, people, "2025-04")
    report, bundle = publish(book, people, "2025-01", "2025-04")  # earlier is fine: empty months
    check_bundle(bundle)
    assert report.period_start == D(2025, 1, 1)


def test_a_book_with_nothing_posted_has_nothing_to_publish(app, book, people):
    close(book, people, (2025, 1))
    with pytest.raises(Conflict, match="nothing to publish"):
        publish(book, people, "2025-01")


@pytest.mark.parametrize(
    "start,end",
    [("2025-3", None), ("March", None), ("2025-13", None), ("", None), ("2025-04", "2025-03")],
)
def test_malformed_periods_are_invalid_input(app, book, people, spring, start, end):
    with pytest.raises(InvalidInput):
        publish(book, people, start, end)


@pytest.mark.parametrize("role", ["preparer", "auditor", "supervisor"])
def test_only_admins_and_reviewers_publish(app, book, people, spring, role):
    with pytest.raises(NotPermitted):
        publish(book, people, "2025-03", who=role)
    publish(book, people, "2025-03", who="admin")


def test_published_reports_never_change(app, book, people, spring):
    report, _ = publish(book, people, "2025-03")
    for stmt in (
        "UPDATE disclosure_reports SET bundle = '{}'",
        "DELETE FROM disclosure_reports",
        "UPDATE checkpoints SET size = 0",
        "DELETE FROM checkpoints",
        "UPDATE signing_keys SET fingerprint = 'x'",
        "DELETE FROM signing_keys",
    ):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with db.session.begin_nested():
                db.session.execute(sa.text(stmt))
    assert count_reports(book) == 1
    report.bundle = "{}"
    with pytest.raises(ImmutableRowError):
        db.session.flush()


def disable_update_triggers(table: str) -> None:
    """Simulate someone with the database owner's rights (inside the test's transaction)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    else:
        db.session.execute(sa.text(f"DROP TRIGGER IF EXISTS {table}_no_update"))


def test_publishing_stops_when_the_log_and_the_books_disagree(app, book, people, spring):
    disable_update_triggers("voucher_lines")
    db.session.execute(
        sa.text("UPDATE voucher_lines SET debit = debit + 1 WHERE voucher_id = :v AND debit > 0"),
        {"v": spring["sale"].id},
    )
    db.session.expire_all()
    with pytest.raises(LogInconsistent, match="disagree at record 1"):
        publish(book, people, "2025-03")
    assert count_reports(book) == 0


# --- API and downloads -----------------------------------------------------------------------------


def test_publish_through_the_api_and_download_without_login(
    app, client_as, organisation, book, people, spring
):
    c = client_as("reviewer")
    resp = c.post(
        f"/api/v1/organisations/{organisation.id}/reports",
        json={"period": "2025-03", "to": "2025-04"},
        headers={"X-CSRFToken": c.csrf},
    )
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()
    assert out["period_start"] == "2025-03-01" and out["period_end"] == "2025-04-30"
    assert out["checkpoint_size"] == 6
    public = app.test_client()
    bundle = public.get(out["bundle_url"])
    assert bundle.status_code == 200 and bundle.mimetype == "application/json"
    assert hashlib.sha256(bundle.data).hexdigest() == out["bundle_sha256"]
    assert "attachment" in bundle.headers["Content-Disposition"]
    check_bundle(json.loads(bundle.data))
    listed = public.get(f"/api/v1/public/books/{book.id}/reports").get_json()
    assert [r["id"] for r in listed] == [out["id"]]
    # The CSV (Chinese headers by default, amounts in yuan) re-totals to the closing balances.
    text = public.get(out["csv_url"]).data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        "日志索引", "凭证号", "日期", "类型", "摘要", "行次", "科目编码", "科目名称",
        "基金", "单位", "借方", "贷方", "冲销的日志索引", "隐私承诺（加密摘要）",
    ]  # fmt: skip
    net: defaultdict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        net[row["科目编码"]] += Decimal(row["借方"]) - Decimal(row["贷方"])
    assert net["1002"] == Decimal("50000.00") + Decimal("11300.00") - 2000 - 800
    assert {row["科目名称"] for row in rows if row["科目编码"] == "1002"} == {"银行存款"}
    assert {row["单位"] for row in rows} == {"元"}
    # The private column is that line's commitment (FORMAT.md §1) or empty, never a list.
    committed = {
        (r["index"], c["line"]): c["commitment"]
        for r in json.loads(bundle.data)["log"]["records"]
        for c in r["private"] or []
    }
    assert all(
        row["隐私承诺（加密摘要）"] == committed.get((int(row["日志索引"]), int(row["行次"])), "")
        for row in rows
    )
    # With the language switch: English headers and account names, the same amounts.
    english = public.get(out["csv_url"], headers={"Accept-Language": "en"})
    en_rows = list(csv.DictReader(io.StringIO(english.data.decode("utf-8-sig"))))
    assert list(en_rows[0])[:3] == ["Log index", "Voucher number", "Date"]
    assert {r["Account name"] for r in en_rows if r["Account code"] == "1002"} == {"Bank deposits"}
    assert [r["Debit"] for r in en_rows] == [r["借方"] for r in rows]
    assert {r["凭证号"] for r in rows} == {
        r["number"] for r in json.loads(bundle.data)["log"]["records"] if r["date"] <= "2025-04-30"
    }
    # Again: refused, with the message in the JSON error.
    again = c.post(
        f"/api/v1/organisations/{organisation.id}/reports",
        json={"period": "2025-04"},
        headers={"X-CSRFToken": c.csrf, "Accept-Language": "en"},
    )
    assert again.status_code == 409 and "already been published" in again.get_json()["message"]


@pytest.mark.parametrize(
    "body,status",
    [
        ({"period": "2025-05"}, 409),
        ({"period": "05/2025"}, 422),
        ({}, 422),
        ({"period": 202503}, 422),
    ],
)
def test_publish_api_bad_input(app, client_as, organisation, book, people, spring, body, status):
    c = client_as("admin")
    resp = c.post(
        f"/api/v1/organisations/{organisation.id}/reports",
        json=body,
        headers={"X-CSRFToken": c.csrf},
    )
    assert resp.status_code == status, resp.get_json()
    assert count_reports(book) == 0


def test_a_retried_publish_gets_the_first_answer(
    app, client_as, organisation, book, people, spring
):
    c = client_as("reviewer")
    headers = {"X-CSRFToken": c.csrf, "Idempotency-Key": "publish-2025-03"}
    first = c.post(
        f"/api/v1/organisations/{organisation.id}/reports",
        json={"period": "2025-03"},
        headers=headers,
    )
    again = c.post(
        f"/api/v1/organisations/{organisation.id}/reports",
        json={"period": "2025-03"},
        headers=headers,
    )
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert count_reports(book) == 1


def test_publish_api_needs_the_role(app, client_as, organisation, book, people, spring):
    c = client_as("preparer")
    resp = c.post(
        f"/api/v1/organisations/{organisation.id}/reports",
        json={"period": "2025-03"},
        headers={"X-CSRFToken": c.csrf},
    )
    assert resp.status_code == 403
    anon = app.test_client().post(
        f"/api/v1/organisations/{organisation.id}/reports", json={"period": "2025-03"}
    )
    assert anon.status_code in (400, 401)  # no CSRF token / not logged in: refused either way
    assert count_reports(book) == 0


def test_unknown_reports_are_404(app, client):
    assert client.get("/api/v1/public/reports/999999/bundle.json").status_code == 404
    assert client.get("/api/v1/public/reports/999999.csv").status_code == 404
    assert client.get("/api/v1/public/reports/0.csv").status_code == 404


def test_cli_publish_and_bundle(app, runner, book, people, spring):
    result = runner.invoke(
        args=[
            "transparency",
            "publish",
            "--book",
            str(book.id),
            "--period",
            "2025-03",
            "--user",
            people["reviewer"].username,
        ]
    )
    assert result.exit_code == 0, result.output
    report = db.session.scalar(
        sa.select(DisclosureReport).where(DisclosureReport.book_id == book.id)
    )
    assert f"report {report.id} 2025-03" in result.output
    out = runner.invoke(args=["transparency", "bundle", "--report", str(report.id)])
    assert out.exit_code == 0
    assert hashlib.sha256(out.output.encode()).hexdigest() == report.bundle_sha256
    again = runner.invoke(
        args=["transparency", "publish", "--book", str(book.id), "--period", "2025-03"]
    )
    assert again.exit_code == 1 and "2025-03" in again.output  # the message names the period


def test_demo_publishes_verifiable_reports(app):
    from core.demo import load_demo
    from ledger.models import Book

    ctx = load_demo()
    for org in (ctx.enterprise, ctx.foundation, ctx.trust):
        bk = db.session.scalar(sa.select(Book).where(Book.organisation_id == org.id))
        reports = db.session.scalars(
            sa.select(DisclosureReport)
            .where(DisclosureReport.book_id == bk.id)
            .order_by(DisclosureReport.period_start)
        ).all()
        assert len(reports) == 2
        first, second = (json.loads(r.bundle) for r in reports)
        check_bundle(first)
        check_bundle(second, previous=first)
        assert used_records(second)  # the second month's records came as carried records
        for st in first["statements"]:
            if st["statement"] == "balance_sheet":
                amounts = {ln["key"]: ln["amount"] for ln in st["lines"]}
                left = [
                    ln for ln in st["lines"] if ln["kind"] == "total" and ln.get("side") == "left"
                ]
                right = [
                    ln for ln in st["lines"] if ln["kind"] == "total" and ln.get("side") == "right"
                ]
                assert left and right and amounts[left[0]["key"]] == amounts[right[0]["key"]]
    # No resident's name or unit in any public bundle.
    text = " ".join(r.bundle for r in db.session.scalars(sa.select(DisclosureReport)))
    for resident in ctx.residents:
        assert resident.name not in text and resident.unit not in text
