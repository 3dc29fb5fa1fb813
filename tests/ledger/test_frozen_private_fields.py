"""Private fields are frozen at posting; a month a published report covers is never reopened."""

import datetime as dt

import pytest

from core.db import db
from core.errors import Conflict
from ledger import log
from ledger import services as svc
from tests.ledger.conftest import lines
from tlog import merkle


def test_editing_a_resident_later_does_not_change_the_posted_record(
    post, acct, book, resident_factory, organisation
):
    r = resident_factory(community=organisation.community)
    v = post(lines((acct("1002"), 5000, 0, {"resident_id": r.id}), (acct("5001"), 0, 5000)))
    stored = log.leaf_hash_at(book.id, v.log_index)
    r.name, r.unit = "改过的名字", "9栋9单元909"
    db.session.flush()
    db.session.expire_all()
    assert merkle.leaf_hash(log.leaf_bytes(log.public_record(v))) == stored
    assert log.private_fields(v)[0]["name"] != "改过的名字"


def test_a_month_with_a_published_report_is_not_reopened(post, acct, book, people):
    from transparency.disclosure import publish_report

    post(lines((acct("1002"), 100, 0), (acct("5001"), 0, 100)), date=dt.date(2026, 1, 5))
    svc.close_period(book, 2026, 1, actor=people["reviewer"])
    publish_report(book, "2026-01", None, actor=people["reviewer"])
    with pytest.raises(Conflict):
        svc.reopen_period(book, 2026, 1, "发现错误", actor=people["admin"])
    assert book.closed_through == 202601
