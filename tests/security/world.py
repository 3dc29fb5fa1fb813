"""The world the authorization matrix runs in, built once per module: two communities, in
each an enterprise with a book, posted vouchers naming residents and a published report
(community A also has a foundation with its book), a user per role in A's enterprise, a
platform admin, and a resident of A with a login.

Every request of the matrix runs inside a SAVEPOINT that is rolled back afterwards, so a write
that authorization lets through changes nothing the next request sees."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from core.auth import grant_role
from core.db import db
from core.models import Community, Organisation, Resident, User
from core.people import invite
from ledger import services as svc
from ledger.attachments import add_attachment
from ledger.models import Book, Voucher
from tests import factories
from tests.conftest import csrf_token, login
from tests.ledger.conftest import lines
from transparency.disclosure import publish_report
from transparency.models import DisclosureReport

ORG_ROLES = ("admin", "preparer", "reviewer", "auditor", "supervisor", "council_secretary")
PAYERS = ("张秀英", "王秀兰", "孙丽娟")  # the residents on each side's vouchers: names found
OTHERS = ("李建国", "赵明华", "周德胜")  # nowhere else
ROLES = ("anonymous", "platform_admin", *ORG_ROLES, "resident")
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


@dataclass
class Side:
    """One community's enterprise and what it holds: the ids a URL of that side is filled with."""

    community: Community
    org: Organisation
    book: Book
    fee: Voucher  # posted, its lines name ``payer``
    named: Voucher  # posted, its lines name ``other``
    draft: Voucher  # a draft with one attachment
    attachment_id: int
    payer: Resident
    other: Resident
    report: DisclosureReport
    invitation_id: int
    member: User  # a person of the organisation (its preparer)
    checkpoint_size: int
    ids: dict[str, Any] = field(default_factory=dict)  # URL values, read once (see fill_ids)


@dataclass
class World:
    own: Side  # community A's enterprise, where the roles are held
    other: Side  # community B's enterprise
    sibling: Side  # a second enterprise in community A
    users: dict[str, User]
    cookies: dict[str, str] = field(default_factory=dict)  # role → session cookie
    csrf: dict[str, str] = field(default_factory=dict)  # role → CSRF token of that session
    conn: Any = None  # the connection holding the world's transaction


def _side(n: int, community: Community | None = None) -> tuple[Side, dict[str, User]]:
    community = community or factories.CommunityFactory(slug=f"authz-{n}")
    org = factories.OrganisationFactory(community=community, slug=f"authz-org-{n}")
    if n == 0:  # an organisation of the other kinds, with its book, in the first community
        svc.create_book(factories.OrganisationFactory(community=community, kind="foundation"))
    book = svc.create_book(org)
    users = {}
    for role in ORG_ROLES:
        u = factories.UserFactory(username=f"authz{n}_{role}")
        grant_role(u, org, role)
        users[role] = u
    db.session.flush()
    payer = factories.ResidentFactory(community=community, name=PAYERS[n], unit="1栋1单元101")
    other = factories.ResidentFactory(community=community, name=OTHERS[n], unit="1栋2单元302")
    a = {c: factories.account_in(book, c) for c in ("1002", "1122", "3001", "5001")}
    prep, rev = users["preparer"], users["reviewer"]

    def post(ls, date, summary):
        v = svc.create_voucher(book, svc.VoucherInput(date, summary, ls), actor=prep)
        svc.submit_voucher(v, actor=prep)
        svc.approve_voucher(v, actor=rev)
        return svc.post_voucher(v, actor=rev)

    post(lines((a["1002"], 50_000_00, 0), (a["3001"], 0, 50_000_00)), dt.date(2025, 3, 2), "出资")
    fee = post(
        lines(
            (a["1002"], 4_096_00, 0, {"resident_id": payer.id}),
            (a["1122"], 0, 4_096_00, {"resident_id": payer.id}),
        ),
        dt.date(2025, 3, 12),
        "收取 3 月物业费",
    )
    named = post(
        lines(
            (a["1002"], 123_45, 0, {"resident_id": other.id}),
            (a["5001"], 0, 123_45, {"resident_id": other.id}),
        ),
        dt.date(2025, 3, 15),
        "收取场地费",
    )
    svc.close_period(book, 2025, 3, actor=rev)
    report = publish_report(book, "2025-03", actor=rev)
    draft = svc.create_voucher(
        book,
        svc.VoucherInput(
            dt.date(2025, 4, 2), "草稿", lines((a["1002"], 100, 0), (a["5001"], 0, 100))
        ),
        actor=prep,
    )
    att = add_attachment(draft, "a.png", "image/png", PNG, actor=prep)
    inv, _token = invite(org, role="auditor", actor=users["admin"])
    db.session.flush()
    side = Side(
        community=community,
        org=org,
        book=book,
        fee=fee,
        named=named,
        draft=draft,
        attachment_id=att.id,
        payer=payer,
        other=other,
        report=report,
        invitation_id=inv.id,
        member=prep,
        checkpoint_size=report.checkpoint.size,
    )
    return side, users


def build(app: Flask) -> World:
    own, users = _side(0)
    other, _ = _side(1)
    sibling, _ = _side(2, own.community)
    admin = factories.UserFactory(username="authz_platform", is_platform_admin=True)
    resident_user = factories.UserFactory(username="authz_resident")
    db.session.flush()
    own.payer.user_id = resident_user.id
    users = {**users, "platform_admin": admin, "resident": resident_user}
    db.session.commit()
    for side in (own, other, sibling):
        fill_ids(side)
    for side in (own, other, sibling):  # shareholders (issue 10)
        _shareholders(side, admin)
    db.session.commit()
    world = World(own=own, other=other, sibling=sibling, users=users)
    for role in ROLES:
        c = app.test_client()
        if role != "anonymous":
            login(c, users[role].username)
        world.csrf[role] = csrf_token(c)
        cookie = c.get_cookie("session")
        world.cookies[role] = cookie.value if cookie else ""
    db.session.commit()
    return world


# --- filling a rule's URL with the ids of one side ----------------------------------------------

_ARG = re.compile(r"<(?:([a-z_]+)(?:\([^)]*\))?:)?([a-z_]+)>")


def _any_first(rule: str, name: str) -> str | None:
    m = re.search(r"<any\(([^)]*)\):" + name + ">", rule)
    return m.group(1).split(",")[0].strip() if m else None


def fill_ids(side: Side) -> None:
    side.ids = {
        "org_id": side.org.id,
        "community_id": side.community.id,
        "voucher_id": side.fee.id,
        "draft_id": side.draft.id,
        "resident_id": side.payer.id,
        "attachment_id": side.attachment_id,
        "account_id": factories.account_in(side.book, "1002").id,
        "payer_id": side.payer.id,
        "other_id": side.other.id,
        "named_id": side.named.id,
        "invitation_id": side.invitation_id,
        "user_id": side.member.id,
        "report_id": side.report.id,
        "book_id": side.book.id,
        "size": side.checkpoint_size,
        "slug": side.community.slug,
        "token": "not-a-token",
        "code": "en",
        "name": "balance_sheet",
        "year": 2025,
        "month": 3,
        "id": side.fee.id,
        "filename": "css/app.css",
    }


def url_for_rule(rule: str, side: Side, args: dict[str, Any] | None = None) -> str:
    values = dict(side.ids)
    if "attachment_id" in rule:
        values["voucher_id"] = values["draft_id"]
    if "/accounts/" in rule:
        values["code"] = "1002"
    values.update({k: str(v).format(**side.ids) for k, v in (args or {}).items()})

    def fill(m: re.Match) -> str:
        converter, name = m.group(1), m.group(2)
        if converter == "any" and name not in (args or {}):
            return _any_first(rule, name) or ""
        return str(values[name])

    return _ARG.sub(fill, rule)


# --- funds domain (issue 12): a foundation per side hosting community funds -------------------
# Appended block (append-only, owned by the funds domain). Each side gets a foundation with its
# NPO book, a council, a 社区保障资金 fund with a project in implementation (its council vote,
# minutes attached) and a restricted micro-fund with a donation; the roles of community A's
# enterprise are granted in A's foundation too, so the funds rows check O / F for real. Its ids
# are added to the side's URL values (``funds_org_id``, ``cf_id``, ``micro_id``, ``project_id``,
# ``inflow_id``, ``resolution_id``) by wrapping ``fill_ids``, which build() calls per side.

_fill_ids_without_funds = fill_ids


def _funds_side(side: Side) -> dict[str, Any]:
    from core.models import User as _User
    from funds import services as fs

    day = dt.date(2025, 4, 1)
    org = factories.OrganisationFactory(
        community=side.community, kind="foundation", slug=f"{side.org.slug}-funds"
    )
    svc.create_book(org)
    if side.org.slug == "authz-org-0":  # the roles' own side
        for role in ORG_ROLES:
            user = db.session.query(_User).filter_by(username=f"authz0_{role}").one()
            grant_role(user, org, role)
    else:
        grant_role(side.member, org, "preparer")
    db.session.flush()
    actor = side.member
    council = fs.create_council(
        org,
        name="议事会",
        members=[(f"成员{i}", dt.date(2025, 1, 1)) for i in range(5)],
        actor=actor,
    )
    pf = fs.create_community_fund(
        org,
        code="PF",
        name="社区保障资金",
        founder_type="COMMUNITY",
        purpose_tags=["public_services"],
        public_finance=True,
        actor=actor,
    )
    micro = fs.create_community_fund(
        org, code="MF", name="微基金", founder_type="COMPANY", purpose_tags=["elderly"], actor=actor
    )
    fs.record_allocation(
        pf,
        year=2025,
        date=day,
        kind="urban",
        population=8000,
        population_basis="resident",
        part_hundreds="floor",
        actor=actor,
    )
    gift = fs.record_inflow(
        micro, kind="donation", amount=100_00, date=day, source_name="某公司", actor=actor
    )
    p = fs.create_project(
        pf,
        title="环境改善",
        start=day,
        end=dt.date(2025, 6, 30),
        proposed_by="社区党委",
        proposed_on=day,
        budget_fen=10_000_00,
        actor=actor,
    )
    vote = fs.record_resolution(
        org,
        body="council",
        council=council,
        project=p,
        meeting_date=day,
        present=5,
        votes_for=5,
        votes_against=0,
        votes_abstain=0,
        text="同意",
        minutes=("纪要.txt", "text/plain", b"minutes"),
        actor=actor,
    )
    fs.advance_project(p, to="voted", who="议事会", on=day, resolution=vote, actor=actor)
    fs.advance_project(p, to="implementation", who="居委会", on=day, actor=actor)
    on_micro = fs.record_resolution(
        org,
        body="council",
        council=council,
        cf=micro,
        meeting_date=day,
        present=5,
        votes_for=5,
        votes_against=0,
        votes_abstain=0,
        text="用途达成",
        actor=actor,
    )
    lease = fs.record_commitment(
        org,
        tenant="社会组织",
        premises="球场",
        year=2025,
        date=day,
        sessions_promised=10,
        value_claimed_fen=1_000_00,
        actor=actor,
    )
    db.session.flush()
    return {
        "funds_org_id": org.id,
        "commitment_id": lease.id,
        "cf_id": pf.id,
        "micro_id": micro.id,
        "council_id": council.id,
        "project_id": p.id,
        "inflow_id": gift.id,
        "resolution_id": vote.id,
        "micro_resolution_id": on_micro.id,
    }


def fill_ids(side: Side) -> None:  # noqa: F811  (the funds block wraps the function above)
    _fill_ids_without_funds(side)
    side.ids.update(_funds_side(side))


# --- points (issue 11): an issuer, a scheme, an activity, an item, a requested grant and a held
# grant with its objection on every side; their ids join the side's URL values. ----------------

_fill_ids_without_points = fill_ids


def fill_ids(side: Side) -> None:  # type: ignore[no-redef]
    from points import services as points

    _fill_ids_without_points(side)
    boss = factories.UserFactory(username=f"authz_points_{side.org.id}", is_platform_admin=True)
    issuer = points.create_issuer(side.org, kind="enterprise", actor=boss)
    scheme = points.create_scheme(
        issuer, name="服务积分", type="service", unit="PTS", value_fen=100, actor=boss
    )
    activity = points.create_activity(scheme, name="助老送餐", points=10, actor=boss)
    item = points.create_item(
        issuer, scheme, name="理发", price_fen=3000, max_points=20, actor=boss
    )
    grant = points.request_grant(
        activity,
        activity_date=dt.date.today(),
        residents=[(side.payer.id, None)],
        actor=side.member,
    )
    held = points.request_grant(
        activity,
        activity_date=dt.date.today(),
        residents=[(side.other.id, None)],
        actor=side.member,
    )
    points.approve_grant(held, actor=boss)
    objection = points.object_to_grant(held, "未参加", actor=boss)
    record = points.record_volunteer_hours(
        side.org.community_id,
        side.payer.id,
        activity="助老送餐",
        date=dt.date.today(),
        minutes=90,
        actor=boss,
        issuer=issuer,
    )
    db.session.flush()
    side.ids.update(
        grant_id=grant.id,
        objection_id=objection.id,
        activity_id=activity.id,
        item_id=item.id,
        points_scheme_id=scheme.id,
        scheme_id=scheme.id,
        volunteer_record_id=record.id,
    )


# --- shareholders (issue 10): a register with the payer and ``other`` as shareholders, a -----
# transfer to an outsider waiting for pre-emption, and a dividend with one unpaid line each.


def _shareholders(side: Side, actor: User) -> None:
    from shareholders import services as ssvc

    org, d = side.org, dt.date
    ssvc.set_articles(org, registered_capital=1_000_000_00, actor=actor)
    payer = ssvc.add_shareholder(org, resident=side.payer, actor=actor)
    other = ssvc.add_shareholder(org, resident=side.other, actor=actor)
    for sh, amount in ((payer, 10_000_00), (other, 20_000_00)):
        ssvc.subscribe(
            org, sh, amount=amount, date=d(2025, 4, 1), due_date=d(2025, 12, 31), actor=actor
        )
        ssvc.pay_in(org, sh, amount=amount, date=d(2025, 4, 2), actor=actor)
    outsider = factories.ResidentFactory(community=side.community, name="吴外人", unit="9栋")
    t, _ = ssvc.propose_transfer(
        org,
        other,
        outsider_resident=outsider,
        amount=1_000_00,
        price=1_000_00,
        date=d(2025, 4, 3),
        actor=actor,
    )
    # A resolution as stored (no year-end closing here: the ledger's rows close 2025 themselves).
    from shareholders.models import DividendLine, DividendResolution

    r = DividendResolution(
        community_id=org.community_id,
        organisation_id=org.id,
        resolution_date=d(2025, 4, 20),
        record_date=d(2025, 4, 15),
        profit_year=2024,
        amount=30_00,
        reserve=0,
    )
    db.session.add(r)
    db.session.flush()
    db.session.add(
        DividendLine(
            community_id=org.community_id,
            resolution_id=r.id,
            shareholder_id=payer.id,
            weight=10_000_00,
            amount=30_00,
        )
    )
    db.session.flush()
    db.session.refresh(r, ["lines"])
    side.ids.update(
        sh_id=payer.id,
        transfer_id=t.id,
        dividend_id=r.id,
        line_id=r.lines[0].id,
        payer_sh_id=payer.id,
        other_sh_id=other.id,
    )


# --- auditor access and background jobs (issue 16 items 5 and 7) --------------------------------
# Appended block (append-only). Each side gets a finished background job queued by its admin
# (its file in the instance folder: ``job_id``) and names its auditor (``auditor_user_id``) for
# the grant form. No auditor grant is made here: tests/security/test_auditor_range.py grants
# ranges in its own world and checks the date-range rule route by route.

_fill_ids_without_jobs = fill_ids


def fill_ids(side: Side) -> None:  # type: ignore[no-redef]
    from pathlib import Path

    import sqlalchemy as sa
    from flask import current_app

    from core.models import Job, Membership

    _fill_ids_without_jobs(side)

    def member(role: str) -> int:
        return db.session.scalar(
            sa.select(Membership.user_id)
            .where(Membership.organisation_id == side.org.id, Membership.role == role)
            .order_by(Membership.id)
            .limit(1)
        )

    job = Job(
        kind="ledger.report_export",
        params="{}",
        status="done",
        progress=100,
        progress_note="",
        attempts=1,
        organisation_id=side.org.id,
        community_id=side.org.community_id,
        created_by_id=member("admin"),
        result_name="trial-balance.csv",
        result_mimetype="text/csv",
    )
    db.session.add(job)
    db.session.flush()
    folder = Path(current_app.instance_path) / "jobs" / str(job.id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "trial-balance.csv").write_text("科目编码\n")
    job.result_path = f"jobs/{job.id}/trial-balance.csv"
    job.result_size = (folder / "trial-balance.csv").stat().st_size
    db.session.flush()
    side.ids.update(job_id=job.id, auditor_user_id=member("auditor"))
