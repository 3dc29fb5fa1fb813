"""Communities and organisations: created by platform admins (service, CLI, API, page)."""

import datetime as dt

import pytest
import sqlalchemy as sa

from core import onboarding
from core.db import db
from core.errors import InvalidInput, NotPermitted
from core.models import Community, Organisation
from ledger.models import Account, Book
from transparency.models import SigningKey

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def admin(user_factory):
    return user_factory(is_platform_admin=True)


def _count(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_create_community_and_organisation_opens_its_book_and_key(admin):
    c = onboarding.create_community(
        name="幸福里社区",
        slug="xingfuli",
        area_kind="rural",
        district="成都市郫都区",
        street="安德街道",
        population=3200,
        population_basis="registered",
        actor=admin,
    )
    made = onboarding.create_organisation(
        c,
        name="幸福里共有基金",
        slug="xingfuli-trust",
        kind="trust",
        first_month="2026-01",
        today=dt.date(2026, 12, 3),
        actor=admin,
    )
    org, book = made.organisation, made.book
    assert (org.kind, org.standard, org.first_month, org.base_currency) == (
        "trust_fund",
        "TRUST_FUND",
        202601,
        "CNY",
    )
    assert book.organisation_id == org.id and book.standard == "TRUST_FUND"
    assert book.opening_state == "required"  # real books start from their opening balances
    assert _count(Account, Account.book_id == book.id) > 0
    assert _count(SigningKey, SigningKey.organisation_id == org.id) == 1
    assert c.area_kind == "rural" and c.population == 3200


def test_only_a_platform_admin_creates_communities(user_factory):
    with pytest.raises(NotPermitted):
        onboarding.create_community(name="x", slug="x", actor=user_factory())
    assert _count(Community, Community.slug == "x") == 0


def test_organisation_slug_taken_in_the_community_is_refused(admin, organisation):
    with pytest.raises(InvalidInput) as e:
        onboarding.create_organisation(
            organisation.community,
            name="另一个",
            slug=organisation.slug,
            kind="enterprise",
            first_month="2026-01",
            actor=admin,
        )
    assert "taken" in e.value.errors["slug"][0]
    assert _count(Organisation, Organisation.name == "另一个") == 0


def test_standard_the_kind_cannot_use_is_refused(admin, community):
    with pytest.raises(InvalidInput) as e:
        onboarding.create_organisation(
            community,
            name="基金会",
            slug="fund",
            kind="foundation",
            standard="SME_2011",
            first_month="2026-01",
            actor=admin,
        )
    assert "NPO_2004" in e.value.errors["standard"][0]
    assert _count(Organisation, Organisation.slug == "fund") == 0
    assert _count(Book, Book.community_id == community.id) == 0


def test_start_month_in_the_future_is_refused(admin, community):
    with pytest.raises(InvalidInput) as e:
        onboarding.create_organisation(
            community,
            name="企业",
            slug="ent",
            kind="enterprise",
            first_month="2027-01",
            today=dt.date(2026, 12, 3),
            actor=admin,
        )
    assert "future" in e.value.errors["first_month"][0]
    with pytest.raises(InvalidInput):
        onboarding.create_organisation(
            community, name="企业", slug="ent", kind="enterprise", first_month="26-1", actor=admin
        )
    assert _count(Organisation, Organisation.slug == "ent") == 0


def test_deactivate_never_deletes(admin, organisation):
    onboarding.update_organisation(organisation, name="新名字", active=False, actor=admin)
    db.session.expire_all()
    again = db.session.get(Organisation, organisation.id)
    assert (again.name, again.active) == ("新名字", False)


def test_no_organisation_in_a_deactivated_community(admin, community):
    onboarding.update_community(community, active=False, actor=admin)
    with pytest.raises(InvalidInput) as e:
        onboarding.create_organisation(
            community, name="x", slug="x", kind="enterprise", first_month="2026-01", actor=admin
        )
    assert "deactivated" in str(e.value.message)
    assert _count(Community, Community.id == community.id) == 1


# --- CLI -----------------------------------------------------------------------------------


def test_cli_creates_community_and_organisation(runner):
    r = runner.invoke(
        args=["community", "create", "玉林社区", "--slug", "yulin", "--kind", "urban"]
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        args=[
            "organisation",
            "create",
            "--community",
            "yulin",
            "--name",
            "玉林社区企业",
            "--slug",
            "yulin-ent",
            "--kind",
            "enterprise",
            "--standard",
            "SME_2011",
            "--start",
            "2026-01",
        ]
    )
    assert r.exit_code == 0, r.output
    org = db.session.scalar(sa.select(Organisation).where(Organisation.slug == "yulin-ent"))
    book = db.session.scalar(sa.select(Book).where(Book.organisation_id == org.id))
    assert r.output.strip() == f"organisation {org.id} book {book.id}"


def test_cli_refuses_wrong_standard_and_stores_nothing(runner, community):
    r = runner.invoke(
        args=[
            "organisation",
            "create",
            "--community",
            community.slug,
            "--name",
            "信托",
            "--slug",
            "t1",
            "--kind",
            "trust",
            "--standard",
            "NPO_2004",
            "--start",
            "2026-01",
        ]
    )
    assert r.exit_code != 0 and "TRUST_FUND" in r.output
    assert _count(Organisation, Organisation.slug == "t1") == 0


def test_cli_setup_creates_the_first_platform_admin_once(runner, app):
    assert not onboarding.has_any_user()
    r = runner.invoke(args=["setup", "--username", "root"], input="12345678\n12345678\n")
    assert r.exit_code != 0  # the password rule
    r = runner.invoke(
        args=["setup", "--username", "root"],
        input="granite meadow kettle 19\ngranite meadow kettle 19\n",
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        args=["setup", "--username", "root2"],
        input="granite meadow kettle 19\ngranite meadow kettle 19\n",
    )
    assert r.exit_code != 0 and "already" in r.output


# --- API -----------------------------------------------------------------------------------


def _api_as(client_as, who="platform_admin"):
    c = client_as(who)
    c.environ_base["HTTP_X_CSRFTOKEN"] = c.csrf
    return c


def test_api_creates_community_and_organisation(client_as):
    c = _api_as(client_as)
    r = c.post("/api/v1/communities", json={"name": "API社区", "slug": "api-c"})
    assert r.status_code == 201, r.get_json()
    cid = r.get_json()["id"]
    r = c.post(
        f"/api/v1/communities/{cid}/organisations",
        json={"name": "API企业", "slug": "api-e", "kind": "enterprise", "first_month": "2026-02"},
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["standard"] == "SME_2011" and body["first_month"] == "2026-02"
    assert db.session.get(Book, body["book_id"]).organisation_id == body["id"]
    r = c.patch(f"/api/v1/organisations/{body['id']}", json={"active": False})
    assert r.status_code == 200 and r.get_json()["active"] is False


def test_api_refusals_are_clear_and_store_nothing(client_as, community):
    c = _api_as(client_as)
    r = c.post(
        f"/api/v1/communities/{community.id}/organisations",
        json={"name": "x", "slug": "x", "kind": "enterprise", "first_month": "2999-01"},
    )
    assert r.status_code == 422
    assert "还没到" in r.get_json()["errors"]["first_month"][0]  # in the request's language
    other = _api_as(client_as, "admin")  # an organisation's admin is not a platform admin
    r = other.post("/api/v1/communities", json={"name": "y", "slug": "y"})
    assert r.status_code == 403
    assert _count(Community, Community.slug == "y") == 0


# --- pages ---------------------------------------------------------------------------------


def test_platform_pages_create_and_refuse(client_as):
    c = client_as("platform_admin")
    r = c.post(
        "/platform/communities",
        data={"csrf_token": c.csrf, "name": "页面社区", "slug": "page-c", "area_kind": "urban"},
    )
    assert r.status_code == 302
    cid = db.session.scalar(sa.select(Community.id).where(Community.slug == "page-c"))
    form = {
        "csrf_token": c.csrf,
        "action": "organisation",
        "name": "页面企业",
        "slug": "page-e",
        "kind": "enterprise",
        "standard": "TRUST_FUND",
        "first_month": "2026-01",
    }
    r = c.post(f"/platform/communities/{cid}", data=form)
    assert r.status_code == 422
    assert "按 SME_2011 记账" in r.get_data(as_text=True)
    form["standard"] = ""
    r = c.post(f"/platform/communities/{cid}", data=form)
    assert r.status_code == 302
    assert _count(Organisation, Organisation.slug == "page-e") == 1
    r = c.post(f"/platform/communities/{cid}", data=form)  # the same slug again
    assert r.status_code == 422 and "已有简称为 page-e" in r.get_data(as_text=True)
    assert _count(Organisation, Organisation.slug == "page-e") == 1


def test_settings_page_saves_names_time_zone_and_refuses_bad_zone(client_as, admin):
    c = client_as("platform_admin")
    community = onboarding.create_community(name="设", slug="settings-c", actor=admin)
    org = onboarding.create_organisation(
        community,
        name="设置企业",
        slug="s-e",
        kind="enterprise",
        first_month="2026-01",
        actor=admin,
    ).organisation
    form = {
        "csrf_token": c.csrf,
        "head_name": "张主任",
        "accounting_head_name": "李会计",
        "statement_preparer_name": "王出纳",
        "timezone": "Mars/Olympus",
        "fiscal_year_start_month": "1",
    }
    r = c.post(f"/orgs/{org.id}/settings", data=form)
    assert r.status_code == 422 and "Mars/Olympus" in r.get_data(as_text=True)
    form["timezone"] = "Asia/Urumqi"
    r = c.post(f"/orgs/{org.id}/settings", data=form)
    assert r.status_code == 302
    db.session.refresh(org)
    assert (org.head_name, org.accounting_head_name, org.statement_preparer_name) == (
        "张主任",
        "李会计",
        "王出纳",
    )
    assert org.timezone == "Asia/Urumqi"
    # Single-person mode is the book's, on the ledger's page (core knows no ledger).
    single = {"csrf_token": c.csrf, "single_person_mode": "on", "reason": ""}
    r = c.post(f"/books/{org.id}/single-person", data=single)
    assert r.status_code == 422  # the reason is required
    single["reason"] = "只有一名志愿者"
    assert c.post(f"/books/{org.id}/single-person", data=single).status_code == 302
    assert db.session.scalar(
        sa.select(Book).where(Book.organisation_id == org.id)
    ).single_person_mode


def test_local_time_filter_uses_the_pages_time_zone(app):
    from core.i18n import local_time

    at = dt.datetime(2026, 12, 3, 9, 2)
    with app.test_request_context("/"):
        assert local_time(at) == "2026-12-03 17:02 (Asia/Shanghai)"
        assert local_time(at, "Asia/Urumqi") == "2026-12-03 15:02 (Asia/Urumqi)"
        assert local_time(None) == ""


def test_settings_are_the_organisations_admins(client_as, organisation):
    preparer = client_as("preparer")
    r = preparer.post(
        f"/orgs/{organisation.id}/settings",
        data={"csrf_token": preparer.csrf, "timezone": "Asia/Urumqi", "fiscal_year_start_month": 1},
    )
    assert r.status_code == 403
    assert db.session.get(Organisation, organisation.id).timezone == "Asia/Shanghai"
    admin = client_as("admin")  # an organisation without a book yet: no single-person switch
    page = admin.get(f"/orgs/{organisation.id}/settings").get_data(as_text=True)
    assert 'name="timezone"' in page and "single_person_mode" not in page
