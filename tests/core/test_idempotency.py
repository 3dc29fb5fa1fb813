"""Idempotency-Key: a retried write is answered again and never done twice."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from core.auth import create_api_token, create_user, grant_role
from core.db import db
from core.idempotency import purge_records, valid_key
from core.models import IdempotencyRecord, Organisation
from ledger import services as svc
from ledger.models import Account, Book, Voucher
from tests.factories import PASSWORD
from tests.ledger.test_api import Api, body


@pytest.fixture
def api(app, organisation, user_factory):
    """api("preparer") → a token client of a user with that role in an organisation with a book."""
    svc.create_book(organisation)
    users = {}
    for role in ("admin", "preparer", "reviewer"):
        users[role] = user_factory()
        grant_role(users[role], organisation, role)

    def make(role: str, **kw) -> Api:
        return Api(app, organisation, users[role], **kw)

    return make


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_valid_keys():
    assert valid_key("a") and valid_key("x" * 100) and valid_key("2f1c 9a:~")
    for bad in ("", "x" * 101, "a\nb", "a\x7f", "ключ", "键"):
        assert not valid_key(bad), bad


def test_same_key_twice_creates_one_voucher_and_replays_the_answer(api):
    preparer = api("preparer")
    key = {"Idempotency-Key": "create-0001"}
    first = preparer.post("/vouchers", body(), headers=key)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = preparer.post("/vouchers", body(), headers=key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert count(Voucher) == 1
    assert count(IdempotencyRecord) == 1
    # Without a key, the same body is a new voucher.
    assert preparer.post("/vouchers", body()).status_code == 201
    assert count(Voucher) == 2


def test_same_key_for_a_different_request_is_422(api):
    preparer = api("preparer", lang="en")
    key = {"Idempotency-Key": "k-1"}
    assert preparer.post("/vouchers", body(), headers=key).status_code == 201
    r = preparer.post("/vouchers", body(summary="另一张凭证"), headers=key)
    assert r.status_code == 422
    assert (
        r.get_json()["code"] == "idempotency_key_reused"
        and "different request" in r.get_json()["message"]
    )
    vid = db.session.scalar(sa.select(Voucher.id))
    assert preparer.post(f"/vouchers/{vid}/submit", headers=key).status_code == 422  # other path
    assert count(Voucher) == 1 and db.session.get(Voucher, vid).status == "draft"


def test_a_failed_write_stores_nothing_and_may_be_retried(api):
    preparer = api("preparer")
    key = {"Idempotency-Key": "k-2"}
    r = preparer.post(
        "/vouchers",
        body([{"account": "1002", "debit": "1"}, {"account": "5001", "credit": "2"}]),
        headers=key,
    )
    assert r.status_code == 422
    assert count(IdempotencyRecord) == 0
    r = preparer.post("/vouchers", body(), headers=key)
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers


def test_keys_belong_to_their_user(api):
    key = {"Idempotency-Key": "shared-key"}
    assert api("preparer").post("/vouchers", body(), headers=key).status_code == 201
    r = api("admin").post("/vouchers", body(), headers=key)
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers
    assert count(Voucher) == 2


def test_bad_keys_and_anonymous_keys_are_refused(app, api, organisation):
    preparer = api("preparer")
    for bad in ("x" * 101, "", "tab\there"):
        r = preparer.post("/vouchers", body(), headers={"Idempotency-Key": bad})
        assert r.status_code == 422, bad
        assert "Idempotency-Key" in r.get_json()["errors"]
    anonymous = app.test_client().post(
        f"/api/v1/organisations/{organisation.id}/vouchers",
        json=body(),
        headers={"Idempotency-Key": "k", "Authorization": "Bearer nope"},
    )
    assert anonymous.status_code == 401
    assert count(Voucher) == 0 and count(IdempotencyRecord) == 0


def test_replay_of_a_state_change_does_not_repeat_it(api):
    preparer, reviewer = api("preparer"), api("reviewer")
    vid = preparer.post("/vouchers", body()).get_json()["id"]
    preparer.post(f"/vouchers/{vid}/submit")
    reviewer.post(f"/vouchers/{vid}/approve")
    key = {"Idempotency-Key": "post-it"}
    first = reviewer.post(f"/vouchers/{vid}/post", headers=key)
    again = reviewer.post(f"/vouchers/{vid}/post", headers=key)
    assert first.status_code == again.status_code == 200
    assert (
        again.headers["Idempotent-Replayed"] == "true"
        and again.get_json()["number"] == "记-2026-03-0001"
    )
    assert (
        reviewer.post(f"/vouchers/{vid}/post").status_code == 409
    )  # without the key: a new request
    assert db.session.scalar(sa.select(Book.log_size)) == 1


def test_old_answers_can_be_purged(api):
    import datetime as dt

    preparer = api("preparer")
    key = {"Idempotency-Key": "old"}
    assert preparer.post("/vouchers", body(), headers=key).status_code == 201
    assert purge_records() == 0 and count(IdempotencyRecord) == 1
    db.session.execute(sa.update(IdempotencyRecord).values(created_at=dt.datetime(2020, 1, 1)))
    assert purge_records() == 1 and count(IdempotencyRecord) == 0


# --- real commits ------------------------------------------------------------------------------


def _committed_setup(app):
    """An organisation with a book, a preparer and a reviewer, and an approved voucher, committed."""
    import datetime as dt

    from tests import factories

    org = factories.OrganisationFactory()
    book = svc.create_book(org)
    preparer, reviewer = create_user("prep", PASSWORD), create_user("rev", PASSWORD)
    grant_role(preparer, org, "preparer")
    grant_role(reviewer, org, "reviewer")
    cash, rev = (
        db.session.scalar(
            sa.select(Account).where(Account.book_id == book.id, Account.code == code)
        )
        for code in ("1002", "5001")
    )
    v = svc.create_voucher(
        book,
        svc.VoucherInput(
            dt.date(2026, 3, 5),
            "收款",
            [
                svc.LineInput(account_id=cash.id, debit=100),
                svc.LineInput(account_id=rev.id, credit=100),
            ],
        ),
        actor=preparer,
    )
    svc.submit_voucher(v, actor=preparer)
    svc.approve_voucher(v, actor=reviewer)
    token = create_api_token(reviewer, "bot")[1]
    ids = org.id, book.id, v.id
    db.session.commit()
    db.session.close()  # hold no transaction (on SQLite: no write lock) while requests run
    return (*ids, token)


def test_retried_post_on_a_committing_database_posts_once(committing_app):
    org_id, book_id, vid, token = _committed_setup(committing_app)
    client = committing_app.test_client()
    url = f"/api/v1/organisations/{org_id}/vouchers/{vid}/post"
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "retry-me"}
    first = client.post(url, headers=headers)
    assert first.status_code == 200, first.get_json()
    db.session.remove()
    again = client.post(url, headers=headers)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    db.session.remove()
    assert db.session.get(Book, book_id).log_size == 1
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Voucher).where(Voucher.number.is_not(None))
        )
        == 1
    )
    stored = db.session.scalar(sa.select(IdempotencyRecord))
    assert stored.status_code == 200 and '"number"' in stored.body


def test_concurrent_duplicates_post_once(committing_app):
    """Two copies of the same request at the same moment: one posts, the other replays it
    (or, if it raced past the claim, is refused with 409 and replays on its next retry)."""
    org_id, book_id, vid, token = _committed_setup(committing_app)
    url = f"/api/v1/organisations/{org_id}/vouchers/{vid}/post"
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "twin"}
    barrier = threading.Barrier(2)
    results = []

    def send():
        client = committing_app.test_client()
        barrier.wait()
        r = client.post(url, headers=headers)
        results.append((r.status_code, r.headers.get("Idempotent-Replayed")))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(s for s, _ in results) in ([200, 200], [200, 409]), results
    if [s for s, _ in results] == [200, 200]:
        assert sorted(str(h) for _, h in results) == ["None", "true"]
    db.session.remove()
    assert db.session.get(Book, book_id).log_size == 1
    r = committing_app.test_client().post(url, headers=headers)
    assert r.status_code == 200 and r.headers["Idempotent-Replayed"] == "true"
    assert db.session.get(Organisation, org_id) is not None
