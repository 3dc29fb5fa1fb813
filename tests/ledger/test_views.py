"""The treasurer's pages: entry form, voucher buttons, review queue, periods, accounts, files."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from core.db import db
from ledger import services as svc
from ledger.models import Account, Book, Voucher, VoucherAttachment, VoucherStatus
from ledger.views import rmb_words
from tests.ledger.conftest import lines

D = dt.date(2026, 3, 5)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def english(client):
    client.set_cookie("lang", "en")
    return client


def count_vouchers(book) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Voucher).where(Voucher.book_id == book.id)
    )


def entry(client, rows, *, date=D, summary="收到服务费", do="save", **extra):
    """The entry form as a browser sends it: one list per column, in line order."""
    data = {
        "csrf_token": client.csrf,
        "date": date.isoformat() if isinstance(date, dt.date) else date,
        "summary": summary,
        "attachment_count": "1",
        "account": [r[0] for r in rows],
        "debit": [r[1] for r in rows],
        "credit": [r[2] for r in rows],
        "memo": [r[3] if len(r) > 3 else "" for r in rows],
        "do": do,
    }
    data.update(extra)
    return data


def act(client, org, voucher, action, **form):
    return client.post(
        f"/books/{org.id}/vouchers/{voucher.id}/{action}", data={"csrf_token": client.csrf, **form}
    )


@pytest.fixture
def draft(book, people, acct):
    return svc.create_voucher(
        book,
        svc.VoucherInput(
            D, "购买办公用品", lines((acct("5602"), 5000, 0), (acct("1001"), 0, 5000))
        ),
        actor=people["preparer"],
    )


# --- entry form -----------------------------------------------------------------------------------


def test_preparer_enters_a_voucher_through_the_form(client_as, organisation, book):
    c = client_as("preparer")
    rows = [
        ("1002", "1,234.56", "", "工行到账"),
        ("5001 主营业务收入", "", "1234.56"),
        ("", "", ""),
    ]
    resp = c.post(f"/books/{organisation.id}/vouchers/new", data=entry(c, rows))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    v = db.session.scalars(sa.select(Voucher).where(Voucher.book_id == book.id)).one()
    assert resp.headers["Location"].endswith(f"/books/{organisation.id}/vouchers/{v.id}")
    assert (v.status, v.date, v.summary, v.prepared_by_id, v.attachment_count) == (
        "draft",
        D,
        "收到服务费",
        c.user.id,
        1,
    )
    assert [(ln.account.code, ln.debit, ln.credit, ln.memo) for ln in v.lines] == [
        ("1002", 123456, 0, "工行到账"),
        ("5001", 0, 123456, ""),
    ]
    page = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert "1002" in page and "¥1,234.56" in page and "壹仟贰佰叁拾肆元伍角陆分" in page


def test_unbalanced_voucher_is_422_shows_the_difference_and_stores_nothing(
    client_as, organisation, book
):
    c = english(client_as("preparer"))
    rows = [("1002", "100.00", ""), ("5001", "", "99.99")]
    resp = c.post(f"/books/{organisation.id}/vouchers/new", data=entry(c, rows))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Debit exceeds credit by 0.01" in page
    assert "differ by 0.01" in page  # the service's own message, next to the lines
    assert 'value="99.99"' in page and 'value="收到服务费"' in page  # what was typed comes back
    assert count_vouchers(book) == 0


def test_bad_amount_and_unknown_account_are_reported_per_line(client_as, organisation, book):
    c = english(client_as("preparer"))
    rows = [("1002", "12.345", ""), ("9999", "", "12.34"), ("5001", "abc", "")]
    resp = c.post(f"/books/{organisation.id}/vouchers/new", data=entry(c, rows))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Line 1: 12.345 has more than 2 decimal places." in page
    assert "Line 2: no account 9999" in page
    assert "Line 3: abc is not an amount." in page
    assert count_vouchers(book) == 0


def test_a_float_like_exponent_or_negative_amount_is_refused(client_as, organisation, book):
    c = english(client_as("preparer"))
    for bad in ("1e3", "-5", "NaN", "١٢"):
        resp = c.post(
            f"/books/{organisation.id}/vouchers/new",
            data=entry(c, [("1002", bad, ""), ("5001", "", bad)]),
        )
        assert resp.status_code == 422, bad
    assert count_vouchers(book) == 0


def test_add_line_without_javascript_rerenders_and_stores_nothing(client_as, organisation, book):
    c = client_as("preparer")
    rows = [("1002", "1", ""), ("5001", "", "1")]
    resp = c.post(f"/books/{organisation.id}/vouchers/new", data=entry(c, rows, do="add_line"))
    assert resp.status_code == 200
    assert (
        resp.get_data(as_text=True).count('name="account"') == 3 + 1
    )  # 3 rows + the JS template row
    assert count_vouchers(book) == 0


def test_save_and_submit_in_one_step(client_as, organisation, book):
    c = client_as("preparer")
    resp = c.post(
        f"/books/{organisation.id}/vouchers/new",
        data=entry(c, [("1002", "8", ""), ("5001", "", "8")], do="submit"),
    )
    assert resp.status_code == 302
    assert (
        db.session.scalars(sa.select(Voucher.status).where(Voucher.book_id == book.id)).one()
        == "submitted"
    )


def test_future_date_is_refused_with_the_date_error(client_as, organisation, book):
    c = english(client_as("preparer"))
    future = dt.date.today() + dt.timedelta(days=30)
    resp = c.post(
        f"/books/{organisation.id}/vouchers/new",
        data=entry(c, [("1002", "1", ""), ("5001", "", "1")], date=future),
    )
    assert resp.status_code == 422 and "is in the future" in resp.get_data(as_text=True)
    resp = c.post(
        f"/books/{organisation.id}/vouchers/new",
        data=entry(c, [("1002", "1", ""), ("5001", "", "1")], date="2026-02-30"),
    )
    assert resp.status_code == 422 and "YYYY-MM-DD" in resp.get_data(as_text=True)
    assert count_vouchers(book) == 0


def test_edit_a_draft_and_copy_a_voucher(client_as, organisation, book, draft):
    c = client_as("preparer")
    page = c.get(f"/books/{organisation.id}/vouchers/{draft.id}/edit").get_data(as_text=True)
    assert 'value="50.00"' in page and "5602" in page
    resp = c.post(
        f"/books/{organisation.id}/vouchers/{draft.id}/edit",
        data=entry(c, [("5602", "60", ""), ("1001", "", "60")], summary="改：办公用品"),
    )
    assert resp.status_code == 302
    db.session.refresh(draft)
    assert draft.summary == "改：办公用品" and [ln.debit for ln in draft.lines] == [6000, 0]
    copy = c.get(f"/books/{organisation.id}/vouchers/new?copy={draft.id}").get_data(as_text=True)
    assert 'value="改：办公用品"' in copy and 'value="60.00"' in copy
    assert f'value="{dt.date.today().isoformat()}"' in copy  # a copy is dated today
    assert c.get(f"/books/{organisation.id}/vouchers/new?copy=999999999").status_code == 404


def test_a_submitted_voucher_cannot_be_edited(client_as, organisation, book, draft, people):
    svc.submit_voucher(draft, actor=people["preparer"])
    c = client_as("preparer")
    assert c.get(f"/books/{organisation.id}/vouchers/{draft.id}/edit").status_code == 302
    c.post(
        f"/books/{organisation.id}/vouchers/{draft.id}/edit",
        data=entry(c, [("5602", "1", ""), ("1001", "", "1")]),
    )
    db.session.refresh(draft)
    assert [ln.debit for ln in draft.lines] == [5000, 0]


# --- buttons --------------------------------------------------------------------------------------


def test_submit_approve_and_post_through_the_buttons(client_as, organisation, book):
    prep, rev = client_as("preparer"), client_as("reviewer")
    prep.post(
        f"/books/{organisation.id}/vouchers/new",
        data=entry(prep, [("1002", "300", ""), ("5001", "", "300")]),
    )
    v = db.session.scalars(sa.select(Voucher).where(Voucher.book_id == book.id)).one()
    page = prep.get(f"/books/{organisation.id}/vouchers/{v.id}").get_data(as_text=True)
    assert f"/vouchers/{v.id}/submit" in page and f"/vouchers/{v.id}/approve" not in page
    assert act(prep, organisation, v, "submit").status_code == 302
    page = prep.get(f"/books/{organisation.id}/vouchers/{v.id}").get_data(as_text=True)
    assert f"/vouchers/{v.id}/approve" not in page  # nobody approves their own voucher
    assert act(prep, organisation, v, "approve").status_code == 403
    page = rev.get(f"/books/{organisation.id}/vouchers/{v.id}").get_data(as_text=True)
    assert f"/vouchers/{v.id}/approve" in page
    assert act(rev, organisation, v, "approve").status_code == 302
    assert act(rev, organisation, v, "post").status_code == 302
    db.session.refresh(v)
    assert (
        v.status == "posted" and v.number == "记-2026-03-0001" and v.approved_by_id == rev.user.id
    )
    page = rev.get(f"/books/{organisation.id}/vouchers/{v.id}").get_data(as_text=True)
    assert "记-2026-03-0001" in page and rev.user.display_name in page


def test_reject_needs_a_note_and_returns_the_voucher_to_draft(
    client_as, organisation, draft, people
):
    svc.submit_voucher(draft, actor=people["preparer"])
    rev = english(client_as("reviewer"))
    resp = act(rev, organisation, draft, "reject", note="  ")
    assert resp.status_code == 422 and "Say what must be corrected" in resp.get_data(as_text=True)
    db.session.refresh(draft)
    assert draft.status == "submitted"
    assert act(rev, organisation, draft, "reject", note="发票抬头不对").status_code == 302
    db.session.refresh(draft)
    assert draft.status == "draft"
    assert "发票抬头不对" in rev.get(f"/books/{organisation.id}/vouchers/{draft.id}").get_data(
        as_text=True
    )


def test_a_wrong_step_is_a_4xx_page_with_the_message_never_a_500(client_as, organisation, draft):
    c = english(client_as("admin"))
    resp = act(c, organisation, draft, "post")
    assert resp.status_code == 409
    assert "this step is not possible now" in resp.get_data(as_text=True)
    db.session.refresh(draft)
    assert draft.status == "draft" and draft.number is None


def test_reverse_creates_a_red_draft_and_redirects_to_it(client_as, organisation, post, acct):
    original = post(lines((acct("1002"), 7000, 0), (acct("5001"), 0, 7000)))
    c = client_as("preparer")
    resp = act(c, organisation, original, "reverse", date=D.isoformat())
    assert resp.status_code == 302
    red = db.session.scalars(sa.select(Voucher).where(Voucher.reverses_id == original.id)).one()
    assert resp.headers["Location"].endswith(f"/vouchers/{red.id}")
    assert (red.status, red.kind, [ln.debit for ln in red.lines]) == (
        "draft",
        "reversal",
        [-7000, 0],
    )
    page = c.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'class="num red"' in page and original.number in page
    assert act(c, organisation, original, "reverse").status_code == 409  # only once


def test_discard_keeps_the_voucher_with_its_history(client_as, organisation, draft):
    c = client_as("preparer")
    assert act(c, organisation, draft, "discard").status_code == 302
    db.session.refresh(draft)
    assert draft.status == "discarded"
    assert c.get(f"/books/{organisation.id}/vouchers/{draft.id}").status_code == 200


# --- who may do what ------------------------------------------------------------------------------


def test_auditor_reads_everything_but_has_no_buttons_and_posts_are_403(
    client_as, organisation, draft, people
):
    svc.submit_voucher(draft, actor=people["preparer"])
    c = client_as("auditor")
    page = c.get(f"/books/{organisation.id}/vouchers/{draft.id}").get_data(as_text=True)
    assert "购买办公用品" in page
    assert not re.search(
        r'action="[^"]*/vouchers/\d+/(approve|reject|post|discard|submit|reverse)"', page
    )
    assert "/edit" not in page and "copy=" not in page
    for action in ("approve", "reject", "discard", "post"):
        assert act(c, organisation, draft, action, note="x").status_code == 403, action
    db.session.refresh(draft)
    assert draft.status == "submitted"
    assert c.get(f"/books/{organisation.id}/vouchers/new").status_code == 403
    resp = c.post(
        f"/books/{organisation.id}/vouchers/new",
        data=entry(c, [("1002", "1", ""), ("5001", "", "1")]),
    )
    assert resp.status_code == 403
    for path in ("", "vouchers", "review", "periods", "accounts", "accounts.json"):
        assert c.get(f"/books/{organisation.id}/{path}").status_code == 200, path


def test_anonymous_is_sent_to_login_and_other_organisations_get_403(
    client, client_as, organisation, organisation_factory, book
):
    resp = client.get(f"/books/{organisation.id}/vouchers")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    other = client_as("admin", org=organisation_factory())
    assert other.get(f"/books/{organisation.id}/vouchers").status_code == 403
    assert other.get(f"/books/{organisation.id}/accounts.json").status_code == 403
    resp = other.post(
        f"/books/{organisation.id}/vouchers/new",
        data=entry(other, [("1002", "1", ""), ("5001", "", "1")]),
    )
    assert resp.status_code == 403 and count_vouchers(book) == 0


def test_a_voucher_of_another_book_is_404(client_as, organisation, organisation_factory, book):
    other_org = organisation_factory()
    other_book = svc.create_book(other_org)
    cash = db.session.scalar(
        sa.select(Account).where(Account.book_id == other_book.id, Account.code == "1001")
    )
    rev = db.session.scalar(
        sa.select(Account).where(Account.book_id == other_book.id, Account.code == "5001")
    )
    admin = client_as("admin", org=other_org)
    foreign = svc.create_voucher(
        other_book, svc.VoucherInput(D, "x", lines((cash, 1, 0), (rev, 0, 1))), actor=admin.user
    )
    c = client_as("admin")
    assert c.get(f"/books/{organisation.id}/vouchers/{foreign.id}").status_code == 404
    assert act(c, organisation, foreign, "discard").status_code == 404
    db.session.refresh(foreign)
    assert foreign.status == "draft"


def test_a_form_without_the_csrf_token_is_refused(client_as, organisation, book):
    c = client_as("preparer")
    data = entry(c, [("1002", "1", ""), ("5001", "", "1")])
    del data["csrf_token"]
    assert c.post(f"/books/{organisation.id}/vouchers/new", data=data).status_code == 400
    assert count_vouchers(book) == 0


def test_an_organisation_without_a_book_is_404(client_as, organisation):
    c = client_as("admin")
    assert (
        db.session.scalar(sa.select(Book.id).where(Book.organisation_id == organisation.id)) is None
    )
    assert c.get(f"/books/{organisation.id}/").status_code == 404
    assert c.get("/books/99999999/").status_code == 404


# --- review queue ---------------------------------------------------------------------------------


def test_review_queue_shows_submitted_vouchers_of_others(
    client_as, organisation, book, people, acct
):
    mine = client_as("reviewer")
    by_preparer = svc.create_voucher(
        book,
        svc.VoucherInput(D, "备用金报销", lines((acct("5602"), 1200, 0), (acct("1001"), 0, 1200))),
        actor=people["preparer"],
    )
    svc.submit_voucher(by_preparer, actor=people["preparer"])
    own = svc.create_voucher(
        book,
        svc.VoucherInput(D, "审核人自己做的", lines((acct("5602"), 1, 0), (acct("1001"), 0, 1))),
        actor=people["admin"],
    )
    svc.submit_voucher(own, actor=people["admin"])
    draft_only = svc.create_voucher(
        book,
        svc.VoucherInput(D, "还是草稿", lines((acct("5602"), 1, 0), (acct("1001"), 0, 1))),
        actor=people["preparer"],
    )
    page = mine.get(f"/books/{organisation.id}/review").get_data(as_text=True)
    assert "备用金报销" in page and "审核人自己做的" in page and "还是草稿" not in page
    assert f"/vouchers/{by_preparer.id}/approve" in page
    assert draft_only.status == "draft"
    # the admin prepared one of them: their queue leaves it out
    from tests.conftest import csrf_token, login

    admin = login(english(mine.application.test_client()), people["admin"].username)
    admin.csrf = csrf_token(admin)
    page = admin.get(f"/books/{organisation.id}/review").get_data(as_text=True)
    assert "备用金报销" in page and "审核人自己做的" not in page
    resp = admin.post(
        f"/books/{organisation.id}/vouchers/{by_preparer.id}/approve",
        data={"csrf_token": admin.csrf, "next": "review"},
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith(
        f"/books/{organisation.id}/review"
    )
    db.session.refresh(by_preparer)
    assert by_preparer.status == "approved"


# --- lists ----------------------------------------------------------------------------------------


def test_voucher_list_filters_and_pages(client_as, organisation, book, people, acct, post):
    post(lines((acct("1002"), 100, 0), (acct("5001"), 0, 100)), summary="三月服务费")
    post(
        lines((acct("1001"), 200, 0), (acct("5001"), 0, 200)),
        summary="四月服务费",
        date=dt.date(2026, 4, 2),
    )
    svc.create_voucher(
        book,
        svc.VoucherInput(D, "草稿：维修", lines((acct("5602"), 1, 0), (acct("1001"), 0, 1))),
        actor=people["preparer"],
    )
    c = english(client_as("auditor"))
    base = f"/books/{organisation.id}/vouchers"

    def summaries(**args):
        resp = c.get(base, query_string=args)
        assert resp.status_code == 200
        return set(re.findall(r">([^<>]*(?:服务费|维修))</a>", resp.get_data(as_text=True)))

    assert summaries() == {"三月服务费", "四月服务费", "草稿：维修"}
    assert summaries(status="draft") == {"草稿：维修"}
    assert summaries(date_from="2026-04-01") == {"四月服务费"}
    assert summaries(date_to="2026-03-31", status="posted") == {"三月服务费"}
    assert summaries(q="四月") == {"四月服务费"}
    assert summaries(q="记-2026-03") == {"三月服务费"}
    assert summaries(account="1002") == {"三月服务费"}
    assert summaries(account="1001 库存现金") == {"四月服务费", "草稿：维修"}
    assert summaries(q="100%") == set()  # LIKE wildcards are plain text
    resp = c.get(base, query_string={"date_from": "2026-13-01"})
    assert resp.status_code == 422 and "YYYY-MM-DD" in resp.get_data(as_text=True)
    assert c.get(base, query_string={"page": "x"}).status_code == 422
    assert c.get(base, query_string={"status": "bogus"}).status_code == 422


def test_voucher_list_paginates(client_as, organisation, book, people, acct, monkeypatch):
    import ledger.views.review

    monkeypatch.setattr(ledger.views.review, "PAGE_SIZE", 2)
    for i in range(5):
        svc.create_voucher(
            book,
            svc.VoucherInput(D, f"第{i}张", lines((acct("5602"), 1, 0), (acct("1001"), 0, 1))),
            actor=people["preparer"],
        )
    c = english(client_as("auditor"))
    pages = [
        c.get(f"/books/{organisation.id}/vouchers?page={p}").get_data(as_text=True)
        for p in (1, 2, 3)
    ]
    seen = [set(re.findall(r"第(\d)张", p)) for p in pages]
    assert [len(s) for s in seen] == [2, 2, 1] and set().union(*seen) == {"0", "1", "2", "3", "4"}
    assert "Page 2 of 3" in pages[1] and 'rel="next"' in pages[1] and 'rel="prev"' in pages[1]


# --- periods --------------------------------------------------------------------------------------


def test_period_close_screen_closes_in_order_and_reopen_needs_admin_and_reason(
    client_as, organisation, book, post, acct, people
):
    post(lines((acct("1002"), 100, 0), (acct("5001"), 0, 100)))
    svc.create_voucher(
        book,
        svc.VoucherInput(
            dt.date(2026, 4, 3), "四月草稿", lines((acct("5602"), 1, 0), (acct("1001"), 0, 1))
        ),
        actor=people["preparer"],
    )
    rev = english(client_as("reviewer"))
    base = f"/books/{organisation.id}/periods"
    page = rev.get(base).get_data(as_text=True)
    assert "2026-03" in page and "2026-04" in page and "Close 2026-03" in page
    assert (
        rev.post(f"{base}/close", data={"csrf_token": rev.csrf, "period": "2026-03"}).status_code
        == 302
    )
    db.session.refresh(book)
    assert book.closed_through == 202603
    page = rev.get(base).get_data(as_text=True)
    assert "Closed through 2026-03" in page and "Close 2026-04" in page
    assert "Reopen" not in page  # only admins reopen
    resp = rev.post(f"{base}/close", data={"csrf_token": rev.csrf, "period": "2026-04"})
    assert resp.status_code == 409 and "not posted yet" in resp.get_data(as_text=True)
    assert (
        rev.post(
            f"{base}/reopen", data={"csrf_token": rev.csrf, "period": "2026-03", "reason": "x"}
        ).status_code
        == 403
    )
    admin = english(client_as("admin"))
    assert (
        admin.post(
            f"{base}/reopen", data={"csrf_token": admin.csrf, "period": "2026-03", "reason": ""}
        ).status_code
        == 422
    )
    assert (
        admin.post(
            f"{base}/close", data={"csrf_token": admin.csrf, "period": "2026-3x"}
        ).status_code
        == 422
    )
    db.session.refresh(book)
    assert book.closed_through == 202603
    resp = admin.post(
        f"{base}/reopen", data={"csrf_token": admin.csrf, "period": "2026-03", "reason": "补录发票"}
    )
    assert resp.status_code == 302
    db.session.refresh(book)
    assert book.closed_through is None
    assert "补录发票" in admin.get(base).get_data(as_text=True)
    auditor = client_as("auditor")
    assert (
        auditor.post(
            f"{base}/close", data={"csrf_token": auditor.csrf, "period": "2026-03"}
        ).status_code
        == 403
    )


def test_year_end_closing_from_the_period_screen(client_as, organisation, book, post, acct):
    post(lines((acct("1002"), 100000, 0), (acct("5001"), 0, 100000)), date=dt.date(2025, 6, 1))
    rev = english(client_as("reviewer"))
    base = f"/books/{organisation.id}/periods"
    assert "Generate year-end closing for 2025" in rev.get(base).get_data(as_text=True)
    assert (
        rev.post(f"{base}/year_end", data={"csrf_token": rev.csrf, "year": "2025"}).status_code
        == 302
    )
    closing = db.session.scalars(
        sa.select(Voucher).where(Voucher.book_id == book.id, Voucher.kind == "closing")
    ).all()
    assert closing and all(v.status == "posted" for v in closing)
    resp = rev.post(f"{base}/year_end", data={"csrf_token": rev.csrf, "year": "2025"})
    assert resp.status_code == 409 and "Nothing to close" in resp.get_data(as_text=True)


# --- accounts and funds ---------------------------------------------------------------------------


def test_accounts_page_adds_sub_accounts_and_deactivates(client_as, organisation, book, acct):
    c = english(client_as("preparer"))
    base = f"/books/{organisation.id}/accounts"
    resp = c.post(
        base,
        data={
            "csrf_token": c.csrf,
            "parent_id": acct("1002").id,
            "code": "100201",
            "name_zh": "工商银行",
        },
    )
    assert resp.status_code == 302
    sub = acct("100201")
    assert sub.name_zh == "工商银行" and sub.parent_id == acct("1002").id
    resp = c.post(
        base,
        data={"csrf_token": c.csrf, "parent_id": acct("1002").id, "code": "2001", "name_zh": "错"},
    )
    assert resp.status_code == 422 and "starts with its parent" in resp.get_data(as_text=True)
    labels = [a["label"] for a in c.get(f"{base}.json").get_json()]
    assert "100201 工商银行" in labels and not any(lb.startswith("1002 ") for lb in labels)
    assert (
        c.post(f"{base}/{sub.id}/active", data={"csrf_token": c.csrf, "active": "0"}).status_code
        == 302
    )
    db.session.refresh(sub)
    assert sub.active is False
    assert "100201 工商银行" not in [a["label"] for a in c.get(f"{base}.json").get_json()]
    auditor = client_as("auditor")
    assert (
        auditor.post(
            f"{base}/{sub.id}/active", data={"csrf_token": auditor.csrf, "active": "1"}
        ).status_code
        == 403
    )
    db.session.refresh(sub)
    assert sub.active is False


def test_funds_appear_as_a_line_choice(client_as, organisation, book):
    c = client_as("preparer")
    resp = c.post(
        f"/books/{organisation.id}/funds",
        data={"csrf_token": c.csrf, "fund_code": "F01", "fund_name": "助老基金", "restricted": "1"},
    )
    assert resp.status_code == 302
    page = c.get(f"/books/{organisation.id}/vouchers/new").get_data(as_text=True)
    assert 'name="fund"' in page and "F01 助老基金" in page
    fund_id = re.search(r'<option value="(\d+)">F01', page).group(1)
    data = entry(c, [("1002", "5", ""), ("5001", "", "5")])
    data["fund"] = [fund_id, ""]
    assert c.post(f"/books/{organisation.id}/vouchers/new", data=data).status_code == 302
    v = db.session.scalars(sa.select(Voucher).where(Voucher.book_id == book.id)).one()
    assert [ln.fund_id for ln in v.lines] == [int(fund_id), None]


# --- attachments ----------------------------------------------------------------------------------


def test_attachments_upload_download_and_type_check(client_as, organisation, draft, people):
    import io

    c = english(client_as("preparer"))
    base = f"/books/{organisation.id}/vouchers/{draft.id}/attachments"
    resp = c.post(
        base,
        data={
            "csrf_token": c.csrf,
            "files": [
                (io.BytesIO(PDF), "发票 2026/03.pdf", "application/pdf"),
                (io.BytesIO(PNG), "receipt.png", "image/png"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    atts = db.session.scalars(
        sa.select(VoucherAttachment)
        .where(VoucherAttachment.voucher_id == draft.id)
        .order_by(VoucherAttachment.id)
    ).all()
    assert [(a.filename, a.content_type, a.size) for a in atts] == [
        ("03.pdf", "application/pdf", len(PDF)),
        ("receipt.png", "image/png", len(PNG)),
    ]
    import hashlib

    assert atts[0].sha256 == hashlib.sha256(PDF).hexdigest()
    db.session.refresh(draft)
    assert draft.attachment_count == 2
    auditor = client_as("auditor")
    got = auditor.get(f"{base}/{atts[0].id}")
    assert got.status_code == 200 and got.data == PDF
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    html = b"<html><script>alert(1)</script></html>"
    resp = c.post(
        base,
        data={"csrf_token": c.csrf, "files": [(io.BytesIO(html), "x.pdf", "application/pdf")]},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422 and "Only PDF, JPEG and PNG" in resp.get_data(as_text=True)
    resp = c.post(
        base,
        data={"csrf_token": c.csrf, "files": [(io.BytesIO(PDF), "x.png", "image/png")]},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422  # the bytes say PDF, the claim says PNG
    assert (
        auditor.post(
            base,
            data={
                "csrf_token": auditor.csrf,
                "files": [(io.BytesIO(PDF), "a.pdf", "application/pdf")],
            },
            content_type="multipart/form-data",
        ).status_code
        == 403
    )
    assert c.post(f"{base}/{atts[1].id}/delete", data={"csrf_token": c.csrf}).status_code == 302
    svc.submit_voucher(draft, actor=people["preparer"])
    db.session.commit()  # (a savepoint here) so the refused request's rollback keeps it
    resp = c.post(
        base,
        data={"csrf_token": c.csrf, "files": [(io.BytesIO(PDF), "late.pdf", "application/pdf")]},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 409
    assert c.post(f"{base}/{atts[0].id}/delete", data={"csrf_token": c.csrf}).status_code == 409
    names = db.session.scalars(
        sa.select(VoucherAttachment.filename).where(VoucherAttachment.voucher_id == draft.id)
    ).all()
    assert names == ["03.pdf"]
    assert auditor.get(f"{base}/{atts[1].id}").status_code == 404


def test_an_upload_over_the_size_limit_is_413_and_stores_nothing(
    client_as, organisation, draft, app, monkeypatch
):
    import io

    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    c = client_as("preparer")
    big = PDF + b"0" * 8192
    resp = c.post(
        f"/books/{organisation.id}/vouchers/{draft.id}/attachments",
        data={"csrf_token": c.csrf, "files": [(io.BytesIO(big), "big.pdf", "application/pdf")]},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 413
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VoucherAttachment)) == 0


def test_add_attachment_checks_size_without_a_request(app, draft, people, monkeypatch):
    from core.errors import InvalidInput
    from ledger.attachments import add_attachment

    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 100)
    with pytest.raises(InvalidInput) as e:  # (messages are in the default language here: keys only)
        add_attachment(draft, "big.pdf", "application/pdf", PDF + b"0" * 200, people["preparer"])
    assert list(e.value.errors) == ["file"]
    with pytest.raises(InvalidInput) as e:
        add_attachment(draft, "empty.pdf", "application/pdf", b"", people["preparer"])
    assert list(e.value.errors) == ["file"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VoucherAttachment)) == 0
    att = add_attachment(draft, "../../etc/收据.pdf", None, PDF, people["preparer"])
    assert att.filename == "收据.pdf" and att.content_type == "application/pdf"


def test_files_can_be_attached_with_the_entry_form(client_as, organisation, book):
    import io

    c = client_as("preparer")
    data = entry(c, [("1002", "9", ""), ("5001", "", "9")])
    data["files"] = [(io.BytesIO(PDF), "invoice.pdf", "application/pdf")]
    resp = c.post(
        f"/books/{organisation.id}/vouchers/new", data=data, content_type="multipart/form-data"
    )
    assert resp.status_code == 302
    v = db.session.scalars(sa.select(Voucher).where(Voucher.book_id == book.id)).one()
    assert db.session.scalars(
        sa.select(VoucherAttachment.filename).where(VoucherAttachment.voucher_id == v.id)
    ).all() == ["invoice.pdf"]
    data["files"] = [(io.BytesIO(b"MZ\x90\x00"), "virus.exe", "application/octet-stream")]
    resp = c.post(
        f"/books/{organisation.id}/vouchers/new", data=data, content_type="multipart/form-data"
    )
    assert resp.status_code == 422 and count_vouchers(book) == 1  # the voucher is not stored either


# --- the book home and small pieces ---------------------------------------------------------------


def test_book_home_counts_and_links(client_as, organisation, book, draft, people):
    c = english(client_as("reviewer"))
    page = c.get(f"/books/{organisation.id}/").get_data(as_text=True)
    assert book.name in page and "No month is closed yet." in page
    assert re.search(r'<span class="count">1</span> Draft', page)
    assert f"/books/{organisation.id}/review" in page


def test_home_page_links_my_organisations_to_their_books(client_as, organisation, book):
    c = client_as("auditor")
    assert f'href="/books/{organisation.id}/"' in c.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    "fen, words",
    [
        (0, "零元整"),
        (5, "伍分"),
        (50, "伍角整"),
        (1000, "壹拾元整"),
        (100005, "壹仟元零伍分"),
        (123456, "壹仟贰佰叁拾肆元伍角陆分"),
        (10000000, "壹拾万元整"),
        (100100000, "壹佰万壹仟元整"),
        (100010000, "壹佰万零壹佰元整"),
        (1000000100, "壹仟万零壹元整"),
        (10000000000, "壹亿元整"),
        (10000500000, "壹亿零伍仟元整"),
        (-7000, "负柒拾元整"),
    ],
)
def test_amount_in_words(fen, words):
    assert rmb_words(fen) == words


def test_a_refused_post_changes_nothing(client_as, organisation, draft, people):
    svc.submit_voucher(draft, actor=people["preparer"])
    svc.approve_voucher(draft, actor=people["reviewer"])
    book = draft.book
    c = client_as("auditor")
    assert act(c, organisation, draft, "post").status_code == 403
    db.session.refresh(draft)
    db.session.refresh(book)
    assert draft.status == VoucherStatus.APPROVED and book.log_size == 0


# --- reports --------------------------------------------------------------------------------------


@pytest.fixture
def march(post, acct):
    post(lines((acct("1002"), 123456, 0), (acct("5001"), 0, 123456)), summary="三月服务费")
    post(
        lines((acct("5602"), 5000, 0), (acct("1002"), 0, 5000)),
        summary="办公用品",
        date=dt.date(2026, 3, 9),
    )


@pytest.mark.parametrize(
    "name",
    [
        "trial-balance",
        "balance-sheet",
        "income-statement",
        "general-ledger",
        "fund-statement",
        "account-balances",
    ],
)
def test_every_report_page_renders_for_a_reader(client_as, organisation, march, name):
    c = client_as("auditor")
    resp = c.get(
        f"/books/{organisation.id}/reports/{name}",
        query_string={"start": "2026-03-01", "end": "2026-03-31", "as_of": "2026-03-31"},
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)[:1500]
    page = resp.get_data(as_text=True)
    if name != "fund-statement":
        assert "1,184.56" in page  # 1234.56 − 50.00 left in the bank (or the year's result)


def test_trial_balance_page_and_csv_download(client_as, organisation, march):
    c = client_as("auditor")
    base = f"/books/{organisation.id}/reports/trial-balance"
    page = c.get(base, query_string={"month": "2026-03"}).get_data(as_text=True)
    assert "1,234.56" in page and "1,284.56" in page  # the total of the period's debits
    resp = c.get(base, query_string={"start": "2026-03-01", "end": "2026-03-31", "format": "csv"})
    assert resp.status_code == 200
    assert (
        resp.headers["Content-Type"].startswith("text/csv")
        and "charset=utf-8" in resp.headers["Content-Type"]
    )
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert "trial-balance_2026-03-01_2026-03-31.csv" in resp.headers["Content-Disposition"]
    assert resp.data.startswith("\ufeff".encode())  # a BOM, so Excel reads the Chinese as UTF-8
    import csv
    import io

    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["科目编码", "科目名称", "级次"]
    by_code = {r[0]: r for r in rows[1:]}
    assert by_code["1002"][1] == "银行存款" and by_code["1002"][5:7] == ["1234.56", "50.00"]
    assert by_code["1002"][7:9] == ["1184.56", "0.00"]
    assert rows[-1][0] == "合计" and rows[-1][5] == rows[-1][6] == "1284.56"
    english(c)
    rows = list(
        csv.reader(
            io.StringIO(
                c.get(base, query_string={"month": "2026-03", "format": "csv"}).data.decode(
                    "utf-8-sig"
                )
            )
        )
    )
    assert rows[0][0] == "Code" and rows[-1][0] == "Total"


def test_report_json_and_account_detail(client_as, organisation, march):
    c = client_as("reviewer")
    base = f"/books/{organisation.id}/reports"
    data = c.get(
        f"{base}/trial-balance", query_string={"month": "2026-03", "format": "json"}
    ).get_json()
    assert (
        data["report"] == "trial_balance" and data["totals"]["debit"] == 128456 and data["balanced"]
    )
    page = c.get(
        f"{base}/account-detail", query_string={"account": "1002 银行存款", "month": "2026-03"}
    ).get_data(as_text=True)
    assert (
        "三月服务费" in page
        and "办公用品" in page
        and "记-2026-03-0002" in page
        and "1,184.56" in page
    )
    assert c.get(f"{base}/account-detail").status_code == 200  # asks for an account first
    assert c.get(f"{base}/account-detail", query_string={"format": "csv"}).status_code == 422


def test_bad_report_parameters_are_422_never_500(client_as, organisation, march):
    c = english(client_as("auditor"))
    base = f"/books/{organisation.id}/reports"
    cases = [
        (
            "trial-balance",
            {"start": "2026-03-31", "end": "2026-03-01"},
            "The start date is after the end date",
        ),
        ("trial-balance", {"start": "2026-02-30"}, "YYYY-MM-DD"),
        ("trial-balance", {"month": "2026-13"}, "YYYY-MM"),
        ("trial-balance", {"fund": "999999"}, "No such fund"),
        ("trial-balance", {"level": "0"}, "Out of range"),
        ("income-statement", {"start": "2025-12-01", "end": "2026-03-31"}, "within one year"),
        ("account-detail", {"account": "no-such"}, "No account no-such"),
        ("trial-balance", {"format": "xlsb"}, "Unknown format"),
    ]
    for name, args, message in cases:
        resp = c.get(f"{base}/{name}", query_string=args)
        assert resp.status_code == 422, (name, args)
        assert message in resp.get_data(as_text=True), (name, args)
    assert c.get(f"{base}/no-such-report").status_code == 404


def test_reports_index_links_each_month(client_as, organisation, march):
    page = client_as("auditor").get(f"/books/{organisation.id}/reports").get_data(as_text=True)
    assert "month=2026-03" in page and "as_of=2026-03-31" in page


def test_reports_of_another_organisation_are_403(
    client_as, organisation, organisation_factory, march
):
    other = client_as("admin", org=organisation_factory())
    assert (
        other.get(f"/books/{organisation.id}/reports/trial-balance?format=csv").status_code == 403
    )
