"""A platform admin starts real books in a browser: a community, an organisation with its book,
an invitation that the new person accepts, and that person logging in."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from core.db import db
from core.models import Community, Organisation, User
from ledger.models import Book
from tests import factories

pytestmark = pytest.mark.browser

NEW_PASSWORD = "lantern orchard pebble 31"


def test_platform_admin_creates_community_organisation_and_invites(live_server, browser):
    server = live_server
    with server.app.app_context():
        factories.UserFactory(username="root", display_name="平台管理员", is_platform_admin=True)
        db.session.commit()
        db.session.remove()

    admin = browser.new_context(locale="en-US").new_page()
    admin.goto(server.url + "/login")
    admin.fill("input[name=username]", "root")
    admin.fill("input[name=password]", server.password)
    admin.click("form button[type=submit].primary")
    admin.wait_for_url(server.url + "/")

    admin.click("text=Communities and organisations")
    admin.fill("input[name=name]", "幸福里社区")
    admin.fill("input[name=slug]", "xingfuli")
    admin.fill("input[name=district]", "成都市郫都区")
    admin.select_option("select[name=area_kind]", "rural")
    admin.click("text=Create community")
    admin.wait_for_url(re.compile(r".*/platform/communities/\d+$"))

    admin.fill("form:has(input[value=organisation]) input[name=name]", "幸福里共有基金")
    admin.fill("form:has(input[value=organisation]) input[name=slug]", "xingfuli-trust")
    admin.select_option("select[name=kind]", "trust_fund")
    admin.fill("input[name=first_month]", "2026-01")
    admin.click("text=Create organisation")
    admin.wait_for_url(re.compile(r".*/orgs/\d+/people$"))

    admin.fill("input[name=display_name]", "监察人 周律师")
    admin.select_option("select[name=role]", "supervisor")
    admin.click("text=Create invitation link")
    link = admin.inner_text("#invite-link").strip()
    assert "/invite/" in link

    person = browser.new_context(locale="en-US").new_page()
    person.goto(link)
    person.fill("input[name=username]", "zhoulawyer")
    person.fill("input[name=password]", "12345678")
    person.fill("input[name=password2]", "12345678")
    person.click("text=Create my login")
    assert "too easy to guess" in person.inner_text("[role=alert]")
    person.fill("input[name=password]", NEW_PASSWORD)
    person.fill("input[name=password2]", NEW_PASSWORD)
    person.click("text=Create my login")
    person.wait_for_url(server.url + "/")
    assert "监察人 周律师" in person.inner_text("header")

    # The link is spent; the person logs in again with the password they chose.
    person.click("text=Log out")
    person.goto(link)
    assert "already been used" in person.inner_text("main")
    person.goto(server.url + "/login")
    person.fill("input[name=username]", "zhoulawyer")
    person.fill("input[name=password]", NEW_PASSWORD)
    person.click("form button[type=submit].primary")
    person.wait_for_url(server.url + "/")
    assert "幸福里共有基金" in person.inner_text("main")

    with server.app.app_context():
        org = db.session.scalar(
            sa.select(Organisation).where(Organisation.slug == "xingfuli-trust")
        )
        assert org.standard == "TRUST_FUND" and org.first_month == 202601
        assert (
            db.session.scalar(
                sa.select(Community.area_kind).where(Community.id == org.community_id)
            )
            == "rural"
        )
        assert db.session.scalar(sa.select(Book.id).where(Book.organisation_id == org.id))
        user = db.session.scalar(sa.select(User).where(User.username == "zhoulawyer"))
        assert user.roles_in(org.id) == {"supervisor"}
        db.session.remove()
