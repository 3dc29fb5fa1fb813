"""A resident's personal data exported and erased on request (issue 9 item 8, PIPL) without
breaking the books: the tamper audit still passes, the published bundles and a later one still
verify, a receipt issued before the erasure still verifies, a co-payer still gets receipts, and
the person's name, phone and ID number are nowhere in the database any more."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from core import personal_data as pd
from core.db import db
from core.errors import Conflict, InvalidInput, NotPermitted
from core.residents import record_consent
from ledger import services as svc
from ledger.models import Voucher
from tests.ledger.conftest import acct, book, lines, people, post  # noqa: F401  (fixtures)
from transparency import keys
from transparency.audit import audit_book
from transparency.disclosure import publish_report
from transparency.receipts import build_receipt
from transparency.verify import parse_key, verify_bundle, verify_receipt

NAME, PHONE, ID_NUMBER, UNIT = "欧阳娜娜", "13912345678", "11010519491231002X", "9栋9单元909"
CO_PAYER = "司马相如"


@pytest.fixture(autouse=True)
def keys_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "KEYS_DIR", str(tmp_path / "keys"))


@pytest.fixture
def setting(app, organisation, book, acct, post, people, resident_factory, user_factory):  # noqa: F811
    from core.auth import grant_role

    c = organisation.community
    her = resident_factory(community=c, name=NAME, phone=PHONE, id_number=ID_NUMBER, unit=UNIT)
    him = resident_factory(community=c, name=CO_PAYER, unit="1栋1单元101")
    login = user_factory(username="ouyang")
    her.user_id = login.id
    record_consent(her, "publish_name", "grant", actor=people["admin"])
    second_admin = user_factory(username="second_admin")
    grant_role(second_admin, organisation, "admin")
    db.session.flush()
    post(
        lines((acct("1002"), 50_000_00, 0), (acct("3001"), 0, 50_000_00)), date=dt.date(2025, 3, 1)
    )
    alone = post(
        lines(
            (acct("1002"), 4_096_00, 0, {"resident_id": her.id}),
            (acct("1122"), 0, 4_096_00, {"resident_id": her.id}),
        ),
        date=dt.date(2025, 3, 12),
        summary="收取 3 月物业费",
    )
    shared = post(
        lines(
            (acct("1002"), 300_00, 0, {"resident_id": her.id}),
            (acct("1002"), 200_00, 0, {"resident_id": him.id}),
            (acct("5001"), 0, 500_00),
        ),
        date=dt.date(2025, 3, 20),
        summary="收取场地费",
    )
    svc.close_period(book, 2025, 3, actor=people["reviewer"])
    report = publish_report(book, "2025-03", actor=people["reviewer"])
    receipt = build_receipt(alone, her)
    shared_receipt = build_receipt(shared, her)
    db.session.flush()
    return {
        "her": her,
        "him": him,
        "alone": alone,
        "shared": shared,
        "report": report,
        "receipt": receipt,
        "shared_receipt": shared_receipt,
        "admin": people["admin"],
        "preparer": people["preparer"],
        "second_admin": second_admin,
        "reviewer": people["reviewer"],
    }


def _erase(s):
    e = pd.request_erasure(s["her"], "本人书面申请删除个人信息", actor=s["preparer"])
    pd.confirm_erasure(e, actor=s["admin"])
    return e


def test_export_has_everything_held_on_her(setting):
    out = pd.export_resident(setting["her"])
    assert out["resident"]["name"] == NAME
    assert out["resident"]["phone"] == PHONE  # decrypted for handing over
    assert out["resident"]["id_number"] == ID_NUMBER
    assert out["consents"][0]["kind"] == "publish_name"
    assert out["login"]["username"] == "ouyang"
    numbers = {v["number"] for v in out["vouchers"]}
    assert numbers == {setting["alone"].number, setting["shared"].number}
    shared = next(v for v in out["vouchers"] if v["number"] == setting["shared"].number)
    assert [ln["debit"] for ln in shared["lines"]] == [300_00]  # her line, not her neighbour's
    assert shared["private_fields"] == [{"line": 1, "name": NAME, "unit": UNIT}]
    assert CO_PAYER not in json.dumps(out, ensure_ascii=False)
    assert all(v["receipt"] for v in out["vouchers"])


def test_erasure_needs_a_reason_and_a_second_admin(setting):
    with pytest.raises(InvalidInput) as refused:
        pd.request_erasure(setting["her"], "  ", actor=setting["preparer"])
    assert "reason" in refused.value.errors
    e = pd.request_erasure(setting["her"], "本人申请", actor=setting["admin"])
    with pytest.raises(Conflict):
        pd.request_erasure(setting["her"], "again", actor=setting["admin"])
    with pytest.raises(NotPermitted):  # the requester cannot confirm their own request
        pd.confirm_erasure(e, actor=setting["admin"])
    with pytest.raises(NotPermitted):  # a reviewer is staff but not an admin
        pd.confirm_erasure(e, actor=setting["reviewer"])
    pd.confirm_erasure(e, actor=setting["second_admin"])
    assert e.erased_at is not None and e.confirmed_by_id == setting["second_admin"].id
    with pytest.raises(Conflict):
        pd.confirm_erasure(e, actor=setting["admin"])


def _text_columns():
    for table in db.metadata.sorted_tables:
        for col in table.columns:
            if (
                isinstance(col.type, sa.String | sa.Text | sa.LargeBinary)
                or "Encrypted" in type(col.type).__name__
            ):
                yield table, col


def test_after_erasure_the_books_hold_and_she_is_gone(setting):
    s = setting
    report = s["report"]
    # the stored (encrypted) phone and ID number as the database holds them: they must go too
    ciphertexts = tuple(
        db.session.execute(
            sa.text("SELECT phone, id_number FROM residents WHERE id = :id"), {"id": s["her"].id}
        ).one()
    )
    assert all(ciphertexts) and PHONE not in "".join(ciphertexts)
    _erase(s)
    db.session.expire_all()

    # the registry row is a placeholder; the vouchers lost her fields and their salts
    her = db.session.get(type(s["her"]), s["her"].id)
    assert (her.name, her.phone, her.id_number, her.unit, her.user_id) == (
        pd.ERASED_NAME,
        None,
        None,
        None,
        None,
    )
    for v in (s["alone"], s["shared"]):
        v = db.session.get(Voucher, v.id)
        assert v.private_salt is None
        assert NAME not in (v.private_json or "")

    # nowhere in any text column of any table
    for table, col in _text_columns():
        for (value,) in db.session.execute(sa.select(col).where(col.is_not(None))):
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            for secret in (NAME, PHONE, ID_NUMBER, UNIT, *ciphertexts):
                assert secret not in text, f"{table.name}.{col.name} still holds {secret}"

    # the tamper audit recomputes every leaf from the rows and still agrees
    the_book = s["alone"].book
    result = audit_book(the_book)
    assert result.findings == [], result.findings

    # the published bundle verifies, and so does the next one, built from the rows after
    # the erasure, with its consistency proof from the first
    first = json.loads(report.bundle)
    # the key as the organisation's page states it: fingerprint and origin, so every check runs
    key = parse_key(first["public_key"]["fingerprint"])
    origin = keys.origin(the_book.id)
    r, _ = verify_bundle(first, key=key, origin=origin)
    assert r.exit_code == 0, r.text()
    svc.close_period(the_book, 2025, 4, actor=s["reviewer"])
    later = publish_report(the_book, "2025-04", actor=s["reviewer"])
    r, _ = verify_bundle(json.loads(later.bundle), previous=first, key=key, origin=origin)
    assert r.exit_code == 0, r.text()

    # receipts she was given before keep working: they carry their own salt and fields
    for receipt in (s["receipt"], s["shared_receipt"]):
        r = verify_receipt(receipt, key=key, origin=origin)
        assert r.exit_code == 0, r.text()

    # a receipt asked for her now opens nothing: her fields and salts are gone
    erased_her = db.session.get(type(s["her"]), s["her"].id)
    assert build_receipt(db.session.get(Voucher, s["alone"].id), erased_her)["private"] == []

    # her neighbour on the shared voucher still gets a receipt that opens his line
    his = build_receipt(db.session.get(Voucher, s["shared"].id), s["him"])
    assert [p["name"] for p in his["private"]] == [CO_PAYER]
    assert verify_receipt(his, key=key, origin=origin).exit_code == 0


def test_the_database_still_refuses_every_other_change_of_a_posted_voucher(setting):
    s = setting
    v = s["alone"]
    table = Voucher.__table__
    # before any erasure: the private fields of a posted voucher cannot be dropped
    with pytest.raises(sa.exc.DatabaseError), db.session.begin_nested():
        db.session.execute(
            sa.update(table)
            .where(table.c.id == v.id)
            .values(private_json="null", private_salt=None)
        )
    _erase(s)
    # after it: the summary, the amounts' voucher, the status stay as they were
    for values in ({"summary": "改过"}, {"status": "draft"}, {"private_salt": b"x" * 16}):
        with pytest.raises(sa.exc.DatabaseError), db.session.begin_nested():
            db.session.execute(sa.update(table).where(table.c.id == v.id).values(**values))
    with pytest.raises(sa.exc.DatabaseError), db.session.begin_nested():
        db.session.execute(sa.delete(table).where(table.c.id == v.id))
    # a voucher naming nobody erased cannot use the exception either
    plain = db.session.scalar(
        sa.select(Voucher).where(Voucher.book_id == v.book_id, Voucher.id != v.id).limit(1)
    )
    if plain.private_salt is None:
        with pytest.raises(sa.exc.DatabaseError), db.session.begin_nested():
            db.session.execute(
                sa.update(table).where(table.c.id == plain.id).values(summary="改过")
            )
    # and the erasure record itself never changes once confirmed
    e = pd.erasures(db.session.get(type(s["her"]), s["her"].id))[0]
    et = pd.ResidentErasure.__table__
    with pytest.raises(sa.exc.DatabaseError), db.session.begin_nested():
        db.session.execute(sa.update(et).where(et.c.id == e.id).values(reason="x"))
    with pytest.raises(sa.exc.DatabaseError), db.session.begin_nested():
        db.session.execute(sa.delete(et).where(et.c.id == e.id))
