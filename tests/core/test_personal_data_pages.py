"""The personal-data pages, API and CLI (core/personal_data_views.py): staff see and download
everything held on a resident, request an erasure with a reason, another admin confirms it;
the resident downloads their own; ``flask residents export|erase`` do the same from a shell."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from core import personal_data as pd
from core.auth import create_api_token, grant_role
from core.db import db
from tests.conftest import csrf_token, login
from tests.ledger.conftest import acct, book, lines, people, post  # noqa: F401  (fixtures)
from transparency.audit import audit_book

NAME, PHONE, ID_NUMBER = "诸葛晓雪", "13700001111", "110105194912310021"


@pytest.fixture(autouse=True)
def keys_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "KEYS_DIR", str(tmp_path / "keys"))


@pytest.fixture
def her(organisation, book, acct, post, people, resident_factory, user_factory):  # noqa: F811
    r = resident_factory(
        community=organisation.community, name=NAME, phone=PHONE, id_number=ID_NUMBER
    )
    r.user_id = user_factory(username="zhuge").id
    post(
        lines(
            (acct("1002"), 88_00, 0, {"resident_id": r.id}),
            (acct("1122"), 0, 88_00, {"resident_id": r.id}),
        ),
        date=dt.date(2025, 3, 12),
        summary="收取物业费",
    )
    db.session.flush()
    return r


def _client(app, username):
    c = app.test_client()
    login(c, username)
    return c


def _url(r, tail=""):
    return f"/communities/{r.community_id}/residents/{r.id}/{tail}"


def test_staff_page_download_and_api_show_everything(app, her, people):  # noqa: F811
    c = _client(app, people["admin"].username)
    listed = c.get(f"/communities/{her.community_id}/residents").get_data(as_text=True)
    assert _url(her, "personal-data") in listed
    page = c.get(_url(her, "personal-data"))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert NAME in text and PHONE in text and ID_NUMBER in text
    assert page.headers["Cache-Control"] == "no-store"
    dl = c.get(_url(her, "personal-data.json"))
    assert "attachment" in dl.headers["Content-Disposition"]
    data = json.loads(dl.get_data(as_text=True))
    assert data["resident"]["phone"] == PHONE and len(data["vouchers"]) == 1
    _row, token = create_api_token(people["reviewer"], "t")
    db.session.commit()
    api = app.test_client().get(
        f"/api/v1{_url(her, 'personal-data')}", headers={"Authorization": f"Bearer {token}"}
    )
    assert api.status_code == 200 and api.get_json()["resident"]["id_number"] == ID_NUMBER
    # an auditor of the organisation is not staff of the registry
    assert (
        _client(app, people["auditor"].username).get(_url(her, "personal-data")).status_code == 403
    )


def test_a_resident_downloads_their_own(app, her):
    c = _client(app, "zhuge")
    assert "/me/personal-data.json" in c.get("/").get_data(as_text=True)  # in the top bar
    data = json.loads(c.get("/me/personal-data.json").get_data(as_text=True))
    assert [r["resident"]["name"] for r in data["residents"]] == [NAME]


def test_erasure_through_the_pages_with_two_admins(
    app,
    her,
    people,  # noqa: F811
    book,  # noqa: F811
    user_factory,
    organisation,
):
    other_admin = user_factory(username="admin_two")
    grant_role(other_admin, organisation, "admin")
    db.session.commit()
    first = _client(app, people["admin"].username)
    refused = first.post(_url(her, "erasure"), data={"csrf_token": csrf_token(first)})
    assert refused.status_code == 422  # a reason is required
    asked = first.post(
        _url(her, "erasure"), data={"csrf_token": csrf_token(first), "reason": "本人书面申请"}
    )
    assert asked.status_code == 302
    own = first.post(_url(her, "erasure/confirm"), data={"csrf_token": csrf_token(first)})
    assert own.status_code == 403  # not the requester
    second = _client(app, "admin_two")
    done = second.post(_url(her, "erasure/confirm"), data={"csrf_token": csrf_token(second)})
    assert done.status_code == 302
    db.session.expire_all()
    assert pd.is_erased(her) and her.name == pd.ERASED_NAME and her.phone is None
    page = second.get(_url(her, "personal-data")).get_data(as_text=True)
    assert NAME not in page and PHONE not in page
    assert audit_book(book).findings == []


def test_cli_export_and_erase(app, her, people, user_factory, organisation):  # noqa: F811
    other_admin = user_factory(username="admin_cli")
    grant_role(other_admin, organisation, "admin")
    db.session.commit()  # what a shell's command finds: committed (a refusal rolls back)
    runner = app.test_cli_runner()
    out = runner.invoke(args=["residents", "export", str(her.id)])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["resident"]["phone"] == PHONE
    same = runner.invoke(
        args=[
            "residents",
            "erase",
            str(her.id),
            "--reason",
            "申请",
            "--requested-by",
            people["admin"].username,
            "--confirmed-by",
            people["admin"].username,
        ]
    )
    assert same.exit_code != 0  # four eyes: two different people
    done = runner.invoke(
        args=[
            "residents",
            "erase",
            str(her.id),
            "--reason",
            "申请",
            "--requested-by",
            people["preparer"].username,
            "--confirmed-by",
            "admin_cli",
        ]
    )
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    assert pd.is_erased(her) and her.id_number is None
