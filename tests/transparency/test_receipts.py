"""Receipts: a resident can prove their own payment is in the log, and open its commitment."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json

import pytest
import rfc8785
import sqlalchemy as sa

from core.db import db
from core.errors import Conflict, NotFound
from ledger import services as svc
from tests.ledger.conftest import lines
from tests.transparency.helpers import checkpoint_of
from tlog import merkle, notes
from transparency.checkpoints import sign_checkpoint
from transparency.models import Checkpoint
from transparency.receipts import NotYetCovered, build_receipt

pytestmark = pytest.mark.usefixtures("english")  # these tests match the English messages


@pytest.fixture
def payers(organisation, resident_factory):
    return [
        resident_factory(community=organisation.community, name=n, unit=u)
        for n, u in (("张秀英", "1栋1单元101"), ("李建国", "1栋2单元302"))
    ]


@pytest.fixture
def fee(book, acct, post, payers):
    """Three vouchers; the second is 张秀英's fee payment."""
    post(lines((acct("1001"), 100, 0), (acct("1002"), 0, 100)), date=dt.date(2025, 3, 1))
    paid = post(
        lines(
            (acct("1002"), 4_096_00, 0, {"resident_id": payers[0].id}),
            (acct("1122"), 0, 4_096_00, {"resident_id": payers[0].id}),
        ),
        date=dt.date(2025, 3, 12),
        summary="收取 3 月物业费",
    )
    post(lines((acct("1001"), 200, 0), (acct("1002"), 0, 200)), date=dt.date(2025, 3, 13))
    sign_checkpoint(book)  # as the scheduled checkpoint would (reading a receipt never signs)
    return paid


def check_receipt(receipt: dict, resident) -> None:
    """The checks FORMAT.md §4 lists, done by hand, and by the standalone verifier."""
    from transparency import verify

    report = verify.verify_receipt(receipt, key=verify.parse_key(json.dumps(receipt["public_key"])))
    assert report.exit_code == 0, report.text()
    assert receipt["format"] == "commons-ledger/receipt/1"
    key = receipt["public_key"]
    public = base64.b64decode(key["ed25519"])
    notes.verify_note(receipt["checkpoint"], key["name"], public)
    origin, size, root = checkpoint_of(receipt["checkpoint"])
    record = receipt["record"]
    assert record["index"] == receipt["index"]
    leaf = merkle.leaf_hash(rfc8785.dumps(record))
    proof = [base64.b64decode(h) for h in receipt["inclusion_proof"]]
    assert merkle.verify_inclusion(leaf, receipt["index"], size, proof, root)
    committed = {c["line"]: c["commitment"] for c in record["private"]}
    for p in receipt["private"]:
        salt = base64.b64decode(p["salt"])
        assert len(salt) == 16
        entry = {k: p[k] for k in ("line", "resident", "name", "unit")}
        assert hashlib.sha256(salt + rfc8785.dumps(entry)).hexdigest() == committed[p["line"]]
        assert p["resident"] == resident.id  # only the resident's own lines
    assert {"line": 1, "resident": resident.id, "name": resident.name, "unit": resident.unit} in [
        {k: p[k] for k in ("line", "resident", "name", "unit")} for p in receipt["private"]
    ]


def test_a_receipt_proves_inclusion_and_opens_the_commitment(app, book, fee, payers):
    receipt = build_receipt(fee, payers[0])
    check_receipt(receipt, payers[0])
    assert receipt["index"] == fee.log_index == 1
    # The public record never names the resident.
    text = json.dumps(receipt["record"], ensure_ascii=False)
    assert payers[0].name not in text and payers[0].unit not in text
    assert receipt["record"]["summary"] == "收取 3 月物业费"


def test_a_co_payers_receipt_never_names_the_other_resident(app, book, acct, post, payers):
    """Two residents pay on one voucher: each receipt opens only its own line's commitment."""
    shared = post(
        lines(
            (acct("1002"), 300, 0, {"resident_id": payers[0].id}),
            (acct("1002"), 200, 0, {"resident_id": payers[1].id}),
            (acct("1122"), 0, 500),
        ),
        date=dt.date(2025, 3, 14),
        summary="合付维修费",
    )
    sign_checkpoint(book)
    mine, theirs = build_receipt(shared, payers[0]), build_receipt(shared, payers[1])
    assert [c["line"] for c in mine["record"]["private"]] == [1, 2]
    check_receipt(mine, payers[0])
    for receipt, me, other in ((mine, payers[0], payers[1]), (theirs, payers[1], payers[0])):
        text = json.dumps(receipt, ensure_ascii=False)
        assert me.name in text and other.name not in text and other.unit not in text
        assert [p["resident"] for p in receipt["private"]] == [me.id]
    assert mine["private"][0]["line"] == 1 and theirs["private"][0]["line"] == 2
    assert mine["private"][0]["salt"] != theirs["private"][0]["salt"]
    from transparency import verify

    key = verify.parse_key(json.dumps(theirs["public_key"]))
    assert verify.verify_receipt(theirs, key=key).exit_code == 0


def checkpoints(book) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Checkpoint).where(Checkpoint.book_id == book.id)
    )


@pytest.fixture
def fresh(book, acct, post, fee, payers):
    """张秀英's second payment, posted after the latest checkpoint."""
    return post(
        lines(
            (acct("1002"), 100, 0, {"resident_id": payers[0].id}),
            (acct("1122"), 0, 100, {"resident_id": payers[0].id}),
        ),
        date=dt.date(2025, 3, 20),
        summary="收取 3 月停车费",
    )


def test_a_receipt_uses_the_latest_checkpoint_and_never_signs_unless_asked(
    app, book, acct, post, fee, fresh, payers
):
    assert checkpoints(book) == 1
    first = build_receipt(fee, payers[0])
    assert checkpoint_of(first["checkpoint"])[1] == 3
    with pytest.raises(NotYetCovered, match="not covered by a signed checkpoint") as e:
        build_receipt(fresh, payers[0])
    assert e.value.status == 409 and e.value.code == "not_checkpointed"
    assert checkpoints(book) == 1
    signed = build_receipt(fresh, payers[0], sign=True)
    assert checkpoint_of(signed["checkpoint"])[1] == 4 and checkpoints(book) == 2
    check_receipt(signed, payers[0])
    assert build_receipt(fresh, payers[0], sign=True)["checkpoint"] == signed["checkpoint"]
    assert checkpoints(book) == 2


def test_getting_a_receipt_writes_nothing(app, client_as, organisation, book, fresh, payers):
    """Issue 9 item 8: a GET signed a checkpoint (a write on a GET)."""
    c = client_as("auditor")
    resp = c.get(url(organisation, fresh, payers[0].id), headers={"Accept-Language": "en"})
    assert resp.status_code == 409 and resp.get_json()["code"] == "not_checkpointed"
    assert "next checkpoint" in resp.get_json()["message"]
    assert checkpoints(book) == 1
    page = f"/books/{organisation.id}/vouchers/{fresh.id}/receipt/{payers[0].id}"
    for suffix in ("", ".json", ".pdf", ".svg"):
        c.get(page + suffix)
    assert checkpoints(book) == 1
    html = c.get(page, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Sign a checkpoint now" in html and f'action="{page}/checkpoint"' in html


def test_a_post_signs_and_then_the_receipt_is_there(
    app, client_as, organisation, book, fresh, payers
):
    c = client_as("preparer")
    page = f"/books/{organisation.id}/vouchers/{fresh.id}/receipt/{payers[0].id}"
    assert c.post(page + "/checkpoint").status_code == 400  # no CSRF token
    assert checkpoints(book) == 1
    resp = c.post(page + "/checkpoint", data={"csrf_token": c.csrf})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(page)
    assert checkpoints(book) == 2
    assert c.get(url(organisation, fresh, payers[0].id)).status_code == 200
    # The API's POST signs and answers the receipt at once.
    later = client_as("auditor")
    resp = later.post(url(organisation, fresh, payers[0].id), headers={"X-CSRFToken": later.csrf})
    assert resp.status_code == 200
    check_receipt(json.loads(resp.data), payers[0])


def test_the_api_post_signs_when_needed(app, client_as, organisation, book, fresh, payers):
    c = client_as("reviewer")
    resp = c.post(url(organisation, fresh, payers[0].id), headers={"X-CSRFToken": c.csrf})
    assert resp.status_code == 200, resp.get_json()
    assert checkpoints(book) == 2
    check_receipt(json.loads(resp.data), payers[0])


def test_a_receipt_can_be_rechecked_against_a_later_checkpoint(
    app, client, book, acct, post, fee, payers
):
    receipt = build_receipt(fee, payers[0])
    for n in range(5):
        post(lines((acct("1001"), 5 + n, 0), (acct("1002"), 0, 5 + n)), date=dt.date(2025, 3, 21))
    later = sign_checkpoint(book)
    resp = client.get(
        f"/api/v1/public/books/{book.id}/proof?index={receipt['index']}&size={later.size}"
    )
    assert resp.status_code == 200
    fresh = resp.get_json()
    _, size, root = checkpoint_of(fresh["checkpoint"])
    assert size == 8
    leaf = merkle.leaf_hash(rfc8785.dumps(receipt["record"]))
    assert merkle.verify_inclusion(
        leaf, receipt["index"], size, [base64.b64decode(h) for h in fresh["inclusion_proof"]], root
    )
    # The old proof does not fit the new tree.
    with pytest.raises(merkle.VerificationError):
        merkle.verify_inclusion(
            leaf,
            receipt["index"],
            size,
            [base64.b64decode(h) for h in receipt["inclusion_proof"]],
            root,
        )


def test_no_receipt_for_a_voucher_without_that_resident(app, book, fee, payers):
    with pytest.raises(NotFound, match="no line for this resident") as e:
        build_receipt(fee, payers[1])
    assert e.value.status == 404


def test_no_receipt_for_an_unposted_voucher(app, book, acct, people, payers):
    v = svc.create_voucher(
        book,
        svc.VoucherInput(
            dt.date(2025, 3, 2),
            "草稿",
            lines((acct("1002"), 100, 0, {"resident_id": payers[0].id}), (acct("1122"), 0, 100)),
        ),
        actor=people["preparer"],
    )
    with pytest.raises(Conflict, match="Only a posted voucher"):
        build_receipt(v, payers[0])


def test_no_receipt_when_the_voucher_no_longer_matches_its_leaf(app, book, fee, payers):
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("ALTER TABLE vouchers DISABLE TRIGGER USER"))
    else:
        db.session.execute(sa.text("DROP TRIGGER IF EXISTS vouchers_no_update"))
    db.session.execute(
        sa.text("UPDATE vouchers SET summary = '收取 3 月物业费（改）' WHERE id = :v"),
        {"v": fee.id},
    )
    db.session.expire_all()
    with pytest.raises(Conflict, match="no longer matches"):
        build_receipt(fee, payers[0])


# --- who may fetch a receipt ----------------------------------------------------------------------


def url(organisation, voucher, resident_id):
    return f"/api/v1/organisations/{organisation.id}/vouchers/{voucher.id}/receipt?resident={resident_id}"


@pytest.mark.parametrize("role", ["admin", "preparer", "reviewer", "auditor"])
def test_staff_get_any_residents_receipt(app, client_as, organisation, book, fee, payers, role):
    c = client_as(role)
    resp = c.get(url(organisation, fee, payers[0].id))
    assert resp.status_code == 200, resp.get_json()
    assert "attachment" in resp.headers["Content-Disposition"]
    check_receipt(json.loads(resp.data), payers[0])


def test_a_resident_gets_their_own_receipt_and_nobody_elses(
    app, client_as, organisation, book, fee, payers, user_factory
):
    from tests.conftest import login

    user = user_factory()
    payers[0].user_id = user.id
    db.session.flush()
    c = login(app.test_client(), user.username)
    resp = c.get(url(organisation, fee, payers[0].id))
    assert resp.status_code == 200
    check_receipt(json.loads(resp.data), payers[0])
    assert c.get(url(organisation, fee, payers[1].id)).status_code == 403


@pytest.mark.parametrize("role", ["supervisor", "council_secretary"])
def test_other_roles_may_not_fetch_receipts(app, client_as, organisation, fee, payers, role):
    assert client_as(role).get(url(organisation, fee, payers[0].id)).status_code == 403


@pytest.mark.parametrize(
    "who,query,status",
    [
        (None, "resident={r0}", 401),
        ("auditor", "resident={r1}", 404),  # not on this voucher
        ("auditor", "resident=999999", 404),
        ("auditor", "", 422),
        ("auditor", "resident=x", 422),
        ("elsewhere", "resident={r0}", 403),  # a role in another organisation only
    ],
)
def test_receipt_requests_that_do_not_fit_are_4xx(
    app, client_as, organisation, fee, payers, organisation_factory, who, query, status
):
    # Each case is its own test: a refused request rolls back what the test had set up.
    if who is None:
        c = app.test_client()
    elif who == "elsewhere":
        c = client_as("auditor", org=organisation_factory(community=organisation.community))
    else:
        c = client_as(who)
    q = query.format(r0=payers[0].id, r1=payers[1].id)
    resp = c.get(f"/api/v1/organisations/{organisation.id}/vouchers/{fee.id}/receipt?{q}")
    assert resp.status_code == status, resp.get_json()


def test_cli_receipt(app, runner, fee, payers):
    result = runner.invoke(
        args=["transparency", "receipt", "--voucher", str(fee.id), "--resident", str(payers[0].id)]
    )
    assert result.exit_code == 0, result.output
    check_receipt(json.loads(result.output), payers[0])
    bad = runner.invoke(
        args=["transparency", "receipt", "--voucher", str(fee.id), "--resident", str(payers[1].id)]
    )
    assert bad.exit_code == 1 and fee.number in bad.output  # the message names the voucher
