# SPDX-License-Identifier: AGPL-3.0-or-later
"""Community funds' use cases (DOMAIN.md §4). Each function takes the acting user, checks the
rules, writes its records and the vouchers they cause (through ``ledger.services``), flushes
and never commits. A refused request raises a translated DomainError naming the rule and the
figures before anything is written.

Vouchers (NPO_2004 codes; the fund is tagged on every revenue, expense and net-asset line):
  donation       Dr 1002 银行存款        Cr 4101 捐赠收入
  grant          Dr 1002                 Cr 4401 政府补助收入
  transfer       Dr 1002                 Cr 4901 其他收入 (a share of the community economy),
                 and in the paying enterprise's SME_2011 book Dr 5711 营业外支出 Cr 1002,
                 both in one savepoint, each naming the other organisation (record_transfer)
  return         Dr 1002                 Cr 4601 投资收益 (an endowment's only spendable money)
  allocation     Dr 1122 其他应收款      Cr 4401 (社区保障资金 by formula, receivable)
  disbursement   Dr 5101 业务活动成本    Cr 1002
  release        Dr 3102 限定性净资产    Cr 3101 非限定性净资产 (restriction met)
  ¥1 rent        Dr 1002                 Cr 4901 (the service value is never booked)
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import privacy
from core.db import db
from core.errors import Conflict, InvalidInput, NotFound
from core.models import Community, Organisation, Resident, User
from ledger import policy
from ledger import services as ledger
from ledger.amounts import format_minor
from ledger.charts import NPO_STANDARDS
from ledger.models import Account, Book, Fund, Voucher, VoucherLine
from ledger.reports.balances import Filters, balances_as_of, book_accounts

from . import allocation as formula
from .models import (
    STEP_ORDER,
    Allocation,
    Body,
    Budget,
    CommitteeMember,
    CommunityFund,
    Council,
    CouncilMember,
    Disbursement,
    Disclosure,
    ExpenseCategory,
    FounderType,
    FundRule,
    Inflow,
    InflowKind,
    Project,
    ProjectStep,
    Release,
    Resolution,
    ServiceCommitment,
    ServiceDelivery,
    Step,
)

SOURCE = "funds"
INFLOW_ACCOUNT = {
    InflowKind.DONATION: "4101",
    InflowKind.GRANT: "4401",
    InflowKind.TRANSFER: "4901",
    InflowKind.RETURN: "4601",
    InflowKind.ALLOCATION: "4401",
}
CASH, RECEIVABLE, PROGRAMME, UNRESTRICTED, RESTRICTED, OTHER_REVENUE = (
    "1002",
    "1122",
    "5101",
    "3101",
    "3102",
    "4901",
)
BALANCE_TYPES = ("revenue", "expense", "net_assets")

# CF-5: the negative list (never payable from 社区保障资金, with the reason shown) and the
# priority list (tagged). Organisations may add their own categories.
DEFAULT_CATEGORIES: list[tuple[str, str, str, str | None, bool]] = [
    ("party_services", "党组织服务群众", "Party services to residents", None, True),
    ("skills", "居民技能培训", "Residents' skills", None, True),
    ("volunteering", "志愿服务", "Volunteering", None, True),
    ("environment", "环境改善", "Environment improvement", None, True),
    ("community_building", "社区总体营造", "Community building", None, True),
    ("activities", "社区公益活动", "Community charitable activities", None, False),
    ("vulnerable", "困难群众帮扶", "Help for vulnerable residents", None, False),
    (
        "private_costs",
        "居民个人费用（如物业费）",
        "Residents' private costs (e.g. property fees)",
        "居民个人应承担的费用 / a cost residents bear themselves",
        False,
    ),
    (
        "responsible_party",
        "有责任主体的费用（如公房维修）",
        "Costs with a responsible party (e.g. public-housing repairs)",
        "已有责任主体承担 / another party is responsible for it",
        False,
    ),
    (
        "government_duties",
        "政府职责（如社区工作者报酬）",
        "Government duties (e.g. community workers' pay)",
        "属于政府职责，办事不养人 / a government duty: fund projects, not staff",
        False,
    ),
]


def _yuan(fen: int) -> str:
    return "¥" + format_minor(fen, 2)


def _refuse(message, field: str = "_schema"):
    raise InvalidInput(message, errors={field: [str(message)]})


def _publishable(community_id: int, field: str, text: str | None) -> None:
    """Text the public pages show (project titles, steps, decisions) may not carry a resident's
    name, unit, phone or ID number (DOMAIN.md DP-3): refused, like a voucher's summary."""
    problems = privacy.check_free_text(community_id, text)
    if problems:
        raise InvalidInput(problems[0], errors={field: [str(m) for m in problems]})


# --- the host book ------------------------------------------------------------------------------


def host_book(org: Organisation) -> Book:
    """The foundation's NPO book that hosts its community funds (CF-1)."""
    book = ledger.book_for(org)
    if book.standard not in NPO_STANDARDS:
        raise NotFound(
            _l(
                "Community funds live in a foundation's NPO book; this organisation keeps %(standard)s.",
                standard=book.standard,
            )
        )
    return book


def _account(book: Book, code: str) -> Account:
    acc = ledger.account_by_code(book, code)
    if acc is None:
        raise InvalidInput(_l("No account %(code)s in this book.", code=code))
    return acc


def _revenue(book: Book, code: str, fund: Fund | None) -> Account:
    """A revenue account, on its 限定性 / 非限定性 sub-account where the chart splits it."""
    split = code + ("02" if fund is not None and fund.restricted else "01")
    acc = db.session.scalar(
        sa.select(Account).where(Account.book_id == book.id, Account.code == split)
    )
    return acc or _account(book, code)


def _post(book: Book, date: dt.date, summary: str, lines, actor: User | None) -> int:
    data = ledger.VoucherInput(date=date, summary=summary, lines=lines)
    (vid,) = ledger.post_vouchers(book, [data], source=SOURCE, actor=actor)
    return vid


def _positive(amount: int, field: str = "amount") -> int:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        _refuse(_l("The amount must be a positive number of fen."), field)
    if amount > 10**15:
        _refuse(_l("The amount is too large."), field)
    return amount


# --- community funds -----------------------------------------------------------------------------


def create_community_fund(
    org: Organisation,
    *,
    code: str,
    name: str,
    founder_type: str,
    founder_name: str = "",
    purpose_tags: Sequence[str] = (),
    restricted: bool = True,
    endowment: bool = False,
    public_finance: bool = False,
    beneficiary: Community | None = None,
    rules: Sequence[tuple[str, str, int]] = (),
    actor: User,
) -> CommunityFund:
    """A community fund: a ledger fund of the foundation's book with its founder, purpose tags
    and rules (``(decision, body, over_fen)``: a disbursement or release over ``over_fen``
    needs a passed resolution of ``body``)."""
    book = host_book(org)
    policy.require(org, "prepare", user=actor)
    if founder_type not in FounderType.__members__:
        _refuse(_l("Unknown founder type %(value)s.", value=founder_type), "founder_type")
    tags = [t.strip() for t in purpose_tags if t and t.strip()]
    if restricted and not tags:
        _refuse(_l("A restricted fund needs at least one purpose tag."), "purpose_tags")
    if endowment and not restricted:
        _refuse(_l("An endowment (不动本) is restricted by its donors."), "endowment")
    for decision, body, over in rules:
        if decision not in ("disburse", "release") or body not in {b.value for b in Body}:
            _refuse(_l("A fund rule names a decision (disburse, release) and a body."), "rules")
        if not isinstance(over, int) or over < 0:
            _refuse(_l("A fund rule's threshold is a non-negative amount."), "rules")
    fund = ledger.create_fund(
        book,
        code,
        name,
        restricted=restricted,
        endowment=endowment,
        purpose=",".join(tags)[:300],
        actor=actor,
    )
    cf = CommunityFund(
        community_id=org.community_id,
        organisation_id=org.id,
        book_id=book.id,
        fund_id=fund.id,
        beneficiary_community_id=(beneficiary or org.community).id,
        founder_type=founder_type,
        founder_name=founder_name.strip()[:200],
        purpose_tags=",".join(tags)[:300],
        public_finance=public_finance,
    )
    db.session.add(cf)
    db.session.flush()
    ensure_categories(org)
    for decision, body, over in rules:
        db.session.add(
            FundRule(
                community_id=org.community_id,
                cf_id=cf.id,
                decision=decision,
                body=body,
                over_fen=over,
            )
        )
    db.session.flush()
    return cf


def get_fund(org: Organisation, cf_id: int) -> CommunityFund:
    cf = db.session.get(CommunityFund, cf_id) if 0 < cf_id < 2**63 else None
    if cf is None or cf.organisation_id != org.id:
        raise NotFound(_l("No such community fund."))
    return cf


def list_funds(org: Organisation) -> list[CommunityFund]:
    return list(
        db.session.scalars(
            sa.select(CommunityFund)
            .join(Fund, Fund.id == CommunityFund.fund_id)
            .where(CommunityFund.organisation_id == org.id)
            .order_by(Fund.code)
        )
    )


def close_fund(cf: CommunityFund, *, actor: User) -> None:
    policy.require(_org(cf.organisation_id), "manage", user=actor)
    cf.fund.active = False
    db.session.flush()


def _org(org_id: int) -> Organisation:
    return db.session.get_one(Organisation, org_id)


def add_committee_member(
    cf: CommunityFund,
    *,
    name: str,
    role: str,
    term_start: dt.date,
    term_end: dt.date | None = None,
    actor: User,
) -> CommitteeMember:
    policy.require(_org(cf.organisation_id), "prepare", user=actor)
    if not name.strip() or not role.strip():
        _refuse(_l("A committee member needs a name and a role."), "name")
    if term_end is not None and term_end < term_start:
        _refuse(_l("A term cannot end before it starts."), "term_end")
    m = CommitteeMember(
        community_id=cf.community_id,
        cf_id=cf.id,
        name=name.strip()[:100],
        role=role.strip()[:60],
        term_start=term_start,
        term_end=term_end,
    )
    db.session.add(m)
    db.session.flush()
    return m


# --- councils and resolutions (CF-6) -------------------------------------------------------------


def create_council(
    org: Organisation,
    *,
    name: str,
    members: Sequence[tuple[str, dt.date]],
    quorum: tuple[int, int] = (2, 3),
    actor: User,
) -> Council:
    """A residents' council with its seated members and its quorum rule (at least num/den of
    the members seated on the meeting date must be present)."""
    policy.require(org, "prepare", user=actor)
    num, den = quorum
    if not (0 < num <= den):
        _refuse(_l("A quorum is a fraction between 0 and 1, e.g. 2/3."), "quorum")
    if not name.strip():
        _refuse(_l("The council needs a name."), "name")
    c = Council(
        community_id=org.community_id,
        organisation_id=org.id,
        name=name.strip()[:200],
        quorum_num=num,
        quorum_den=den,
    )
    db.session.add(c)
    db.session.flush()
    for member, since in members:
        seat_member(c, name=member, seated_from=since, actor=actor)
    return c


def seat_member(council: Council, *, name: str, seated_from: dt.date, actor: User) -> CouncilMember:
    policy.require(_org(council.organisation_id), "prepare", user=actor)
    if not name.strip():
        _refuse(_l("A council member needs a name."), "name")
    m = CouncilMember(
        community_id=council.community_id,
        council_id=council.id,
        name=name.strip()[:100],
        seated_from=seated_from,
    )
    db.session.add(m)
    db.session.flush()
    return m


def seated_on(council: Council, on: dt.date) -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(CouncilMember)
            .where(
                CouncilMember.council_id == council.id,
                CouncilMember.seated_from <= on,
                sa.or_(CouncilMember.seated_to.is_(None), CouncilMember.seated_to >= on),
            )
        )
        or 0
    )


def committee_on(cf: CommunityFund, on: dt.date) -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(CommitteeMember)
            .where(
                CommitteeMember.cf_id == cf.id,
                CommitteeMember.term_start <= on,
                sa.or_(CommitteeMember.term_end.is_(None), CommitteeMember.term_end >= on),
            )
        )
        or 0
    )


def record_resolution(
    org: Organisation,
    *,
    body: str,
    meeting_date: dt.date,
    present: int,
    votes_for: int,
    votes_against: int,
    votes_abstain: int,
    text: str,
    council: Council | None = None,
    cf: CommunityFund | None = None,
    project: Project | None = None,
    budget: Budget | None = None,
    minutes: tuple[str, str, bytes] | None = None,
    actor: User,
) -> Resolution:
    """A council resolution or a committee decision: members present out of members seated on
    the meeting date, the quorum rule, the votes, the text decided and the minutes. Passed
    when more than half of those present vote for it. Refused without quorum or with more
    votes than members present."""
    if not _is_secretary(org, actor):
        policy.require(org, "prepare", user=actor)
    if body == Body.COUNCIL:
        if council is None or council.organisation_id != org.id:
            _refuse(_l("A council resolution names its council."), "council_id")
        assert council is not None
        seated = seated_on(council, meeting_date)
        num, den = council.quorum_num, council.quorum_den
    elif body == Body.COMMITTEE:
        if cf is None or cf.organisation_id != org.id:
            _refuse(_l("A committee decision names its fund."), "cf_id")
        assert cf is not None
        seated = committee_on(cf, meeting_date)
        num, den = 1, 2
    else:
        _refuse(_l("Unknown decision body %(value)s.", value=body), "body")
    counts = (present, votes_for, votes_against, votes_abstain)
    if any(not isinstance(n, int) or isinstance(n, bool) or n < 0 for n in counts):
        _refuse(_l("Attendance and votes are whole numbers, not negative."), "present")
    if not text or not text.strip():
        _refuse(_l("A resolution needs the text decided."), "text")
    _publishable(org.community_id, "text", text)
    if present > seated:
        _refuse(
            _l(
                "%(present)d members present, but only %(seated)d are seated on %(date)s.",
                present=present,
                seated=seated,
                date=meeting_date.isoformat(),
            ),
            "present",
        )
    if seated == 0 or present * den < seated * num:
        _refuse(
            _l(
                "No quorum: %(present)d of %(seated)d members present; the rule asks for at least %(num)d/%(den)d.",
                present=present,
                seated=seated,
                num=num,
                den=den,
            ),
            "present",
        )
    cast = votes_for + votes_against + votes_abstain
    if cast > present:
        _refuse(
            _l(
                "%(cast)d votes cast (for %(for)d, against %(against)d, abstaining %(abstain)d) but only %(present)d members present.",
                cast=cast,
                present=present,
                **{"for": votes_for, "against": votes_against, "abstain": votes_abstain},
            ),
            "votes_for",
        )
    for other, name in ((project, "project_id"), (budget, "budget_id")):
        if other is not None and other.organisation_id != org.id:
            _refuse(_l("The linked record belongs to another organisation."), name)
    r = Resolution(
        community_id=org.community_id,
        organisation_id=org.id,
        body=body,
        council_id=council.id if council else None,
        cf_id=cf.id if cf else (project.cf_id if project else None),
        project_id=project.id if project else None,
        budget_id=budget.id if budget else None,
        meeting_date=meeting_date,
        seated=seated,
        present=present,
        votes_for=votes_for,
        votes_against=votes_against,
        votes_abstain=votes_abstain,
        quorum_rule=f"{num}/{den}",
        text=text.strip(),
        passed=votes_for * 2 > present,
        recorded_by_id=actor.id,
    )
    if minutes is not None:
        r.minutes_name, r.minutes_type, r.minutes = minutes[0][:200], minutes[1][:100], minutes[2]
    db.session.add(r)
    db.session.flush()
    return r


def _is_secretary(org: Organisation, actor: User) -> bool:
    return actor.is_platform_admin or "council_secretary" in actor.roles_in(org.id)


def get_resolution(org: Organisation, rid: int) -> Resolution:
    r = db.session.get(Resolution, rid) if 0 < rid < 2**63 else None
    if r is None or r.organisation_id != org.id:
        raise NotFound(_l("No such resolution."))
    return r


# --- expense categories (negative and priority lists, CF-5) -------------------------------------


def ensure_categories(org: Organisation) -> list[ExpenseCategory]:
    have = {
        c.code: c
        for c in db.session.scalars(
            sa.select(ExpenseCategory).where(ExpenseCategory.organisation_id == org.id)
        )
    }
    for code, zh, en, reason, priority in DEFAULT_CATEGORIES:
        if code not in have:
            have[code] = ExpenseCategory(
                community_id=org.community_id,
                organisation_id=org.id,
                code=code,
                name_zh=zh,
                name_en=en,
                negative_reason=reason,
                priority=priority,
            )
            db.session.add(have[code])
    db.session.flush()
    return sorted(have.values(), key=lambda c: c.id)


def category(org: Organisation, code: str) -> ExpenseCategory:
    ensure_categories(org)
    c = db.session.scalar(
        sa.select(ExpenseCategory).where(
            ExpenseCategory.organisation_id == org.id, ExpenseCategory.code == code
        )
    )
    if c is None:
        _refuse(_l("No expense category %(code)s.", code=code), "category")
    assert c is not None
    return c


# --- projects (five steps, CF-5) -----------------------------------------------------------------


def create_project(
    cf: CommunityFund,
    *,
    title: str,
    start: dt.date,
    end: dt.date,
    proposed_by: str,
    proposed_on: dt.date,
    description: str = "",
    priority_tags: Sequence[str] = (),
    budget_fen: int = 0,
    documents: str = "",
    related_party: bool = False,
    actor: User,
) -> Project:
    """A project at step ① 党组织提议 (proposed), with who proposed it, when and the documents."""
    org = _org(cf.organisation_id)
    policy.require(org, "prepare", user=actor)
    if not title.strip():
        _refuse(_l("The project needs a title."), "title")
    if end < start:
        _refuse(_l("A project cannot end before it starts."), "end")
    if not proposed_by.strip():
        _refuse(_l("Say who proposed the project."), "proposed_by")
    for name, value in (
        ("title", title),
        ("description", description),
        ("proposed_by", proposed_by),
        ("documents", documents),
    ):
        _publishable(cf.community_id, name, value)
    if not isinstance(budget_fen, int) or budget_fen < 0:
        _refuse(_l("The budget is a non-negative amount."), "budget_fen")
    p = Project(
        community_id=cf.community_id,
        organisation_id=cf.organisation_id,
        cf_id=cf.id,
        title=title.strip()[:200],
        description=description.strip(),
        priority_tags=",".join(t for t in priority_tags if t)[:300],
        step=Step.PROPOSED.value,
        start=start,
        end=end,
        budget_fen=budget_fen,
        related_party=related_party,
    )
    db.session.add(p)
    db.session.flush()
    _step(p, Step.PROPOSED, proposed_by, proposed_on, documents, None, actor)
    if budget_fen:
        create_budget(cf, year=start.year, label=p.title, amount=budget_fen, project=p, actor=actor)
    return p


def _step(p: Project, step: Step, who: str, on: dt.date, documents: str, resolution_id, actor):
    db.session.add(
        ProjectStep(
            community_id=p.community_id,
            project_id=p.id,
            step=step.value,
            who=who.strip()[:200],
            on=on,
            documents=documents.strip(),
            resolution_id=resolution_id,
            recorded_by_id=actor.id,
        )
    )
    p.step = step.value
    db.session.flush()
    db.session.expire(p, ["steps"])


def advance_project(
    p: Project,
    *,
    to: str,
    who: str,
    on: dt.date,
    documents: str = "",
    resolution: Resolution | None = None,
    actor: User,
) -> Project:
    """The next of the five steps. ② needs the council's resolution on this project: passed,
    the project is voted; rejected, it is refused. Entering ③ schedules its disclosures."""
    org = _org(p.organisation_id)
    policy.require(org, "prepare", user=actor)
    try:
        target = Step(to)
    except ValueError:
        _refuse(_l("Unknown project step %(value)s.", value=to), "to")
    if p.step == Step.REFUSED or p.step == Step.SUPERVISION:
        raise Conflict(_l("This project has finished its steps."))
    current = STEP_ORDER.index(Step(p.step))
    expected = STEP_ORDER[current + 1]
    if target not in (expected, Step.REFUSED) or (
        target == Step.REFUSED and expected != Step.VOTED
    ):
        _refuse(
            _l(
                "The project is at step %(current)s; the next step is %(next)s, not %(asked)s.",
                current=p.step,
                next=expected.value,
                asked=target.value,
            ),
            "to",
        )
    if not who.strip():
        _refuse(_l("Say who took this step."), "who")
    _publishable(p.community_id, "who", who)
    _publishable(p.community_id, "documents", documents)
    last = max((s.on for s in p.steps), default=None)
    if last is not None and on < last:
        _refuse(_l("A step cannot be dated before the previous one (%(date)s).", date=last), "on")
    if expected == Step.VOTED:
        if resolution is None or resolution.project_id != p.id or resolution.body != Body.COUNCIL:
            _refuse(
                _l("Step ② needs the residents' council resolution on this project."),
                "resolution_id",
            )
        assert resolution is not None
        target = Step.VOTED if resolution.passed else Step.REFUSED
    _step(p, target, who, on, documents, resolution.id if resolution else None, actor)
    if target == Step.IMPLEMENTATION:
        schedule_disclosures(p)
    return p


def get_project(org: Organisation, pid: int) -> Project:
    p = db.session.get(Project, pid) if 0 < pid < 2**63 else None
    if p is None or p.organisation_id != org.id:
        raise NotFound(_l("No such project."))
    return p


def list_projects(org: Organisation) -> list[Project]:
    return list(
        db.session.scalars(
            sa.select(Project).where(Project.organisation_id == org.id).order_by(Project.id)
        )
    )


# --- budgets -------------------------------------------------------------------------------------


def create_budget(
    cf: CommunityFund,
    *,
    year: int,
    label: str,
    amount: int,
    project: Project | None = None,
    actor: User,
) -> Budget:
    policy.require(_org(cf.organisation_id), "prepare", user=actor)
    _positive(amount)
    if not (2000 <= year <= 2100):
        _refuse(_l("The budget year must be between 2000 and 2100."), "year")
    if project is not None and project.cf_id != cf.id:
        _refuse(_l("The project belongs to another fund."), "project_id")
    b = Budget(
        community_id=cf.community_id,
        organisation_id=cf.organisation_id,
        cf_id=cf.id,
        project_id=project.id if project else None,
        year=year,
        label=(label or "").strip()[:200] or str(year),
        amount=amount,
    )
    db.session.add(b)
    db.session.flush()
    return b


def budget_spent(budget: Budget, as_of: dt.date | None = None) -> int:
    q = sa.select(sa.func.coalesce(sa.func.sum(Disbursement.amount), 0)).where(
        Disbursement.budget_id == budget.id
    )
    if as_of is not None:
        q = q.where(Disbursement.date <= as_of)
    return int(db.session.scalar(q) or 0)


@dataclass(frozen=True)
class BudgetLine:
    budget: Budget
    actual: int

    @property
    def remaining(self) -> int:
        return self.budget.amount - self.actual


def budget_vs_actual(org: Organisation, as_of: dt.date | None = None) -> list[BudgetLine]:
    budgets = db.session.scalars(
        sa.select(Budget).where(Budget.organisation_id == org.id).order_by(Budget.cf_id, Budget.id)
    )
    return [BudgetLine(b, budget_spent(b, as_of)) for b in budgets]


# --- positions from the ledger -------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    """A fund's money by the ledger (credit positive): its balance and the unrestricted part
    (3101) of it."""

    balance: int
    unrestricted: int


def positions(
    book: Book, fund_ids: Sequence[int], as_of: dt.date | None = None
) -> dict[int, Position]:
    accounts = book_accounts(book)
    ids = [a.id for a in accounts.values() if a.type in BALANCE_TYPES]
    sums = balances_as_of(
        book, as_of, Filters(account_ids=ids, fund_ids=list(fund_ids) or [0]), by_fund=True
    )
    bal: dict[int, int] = defaultdict(int)
    free: dict[int, int] = defaultdict(int)
    for (acc, _u, fk, _pk), (dr, cr) in sums.items():
        if fk is None:
            continue
        bal[fk] += cr - dr
        if accounts[acc].code == UNRESTRICTED:
            free[fk] += cr - dr
    return {f: Position(bal[f], free[f]) for f in fund_ids}


def principal(cf: CommunityFund, as_of: dt.date | None = None) -> int:
    """An endowment's principal (不动本): every inflow except its returns. Zero otherwise."""
    if not cf.fund.endowment:
        return 0
    q = sa.select(sa.func.coalesce(sa.func.sum(Inflow.amount), 0)).where(
        Inflow.cf_id == cf.id, Inflow.kind != InflowKind.RETURN.value
    )
    if as_of is not None:
        q = q.where(Inflow.date <= as_of)
    return int(db.session.scalar(q) or 0)


def _spendable_from(cf: CommunityFund, book: Book, day: dt.date) -> tuple[int, int, int]:
    """(available, balance, principal) at the tightest date from ``day`` on: money spent on
    ``day`` is gone from every later balance, so it must be spare on every later date the fund
    moved (a later-dated spending may already be posted)."""
    later = db.session.scalars(
        sa.select(Voucher.date)
        .distinct()
        .join(VoucherLine, VoucherLine.voucher_id == Voucher.id)
        .where(
            Voucher.book_id == book.id,
            Voucher.status == "posted",
            VoucherLine.fund_id == cf.fund_id,
            Voucher.date > day,
        )
    ).all()
    best: tuple[int, int, int] | None = None
    for d in [day, *sorted(later)]:
        bal = positions(book, [cf.fund_id], d)[cf.fund_id].balance
        keep = principal(cf, d)
        if best is None or bal - keep < best[0]:
            best = (bal - keep, bal, keep)
    assert best is not None
    return best


# --- inflows -------------------------------------------------------------------------------------


def record_inflow(
    cf: CommunityFund,
    *,
    kind: str,
    amount: int,
    date: dt.date,
    source_name: str = "",
    resident: Resident | None = None,
    anonymous: bool = False,
    publish_name: bool = False,
    actor: User,
) -> Inflow:
    """A donation (restricted when the fund is; anonymous allowed; the donor named publicly only
    with consent), a government grant, a transfer from the community economy or an
    endowment's return, posted into the fund."""
    org = _org(cf.organisation_id)
    policy.require(org, "prepare", user=actor)
    try:
        k = InflowKind(kind)
    except ValueError:
        _refuse(_l("Unknown inflow kind %(value)s.", value=kind), "kind")
    if k == InflowKind.ALLOCATION:
        _refuse(_l("An allocation is recorded with the allocation calculator."), "kind")
    if k == InflowKind.TRANSFER:
        _refuse(
            _l(
                "A transfer from the community economy names the paying enterprise: both books get their voucher."
            ),
            "enterprise_id",
        )
    _positive(amount)
    book = db.session.get_one(Book, cf.book_id)
    if not cf.fund.active:
        _refuse(
            _l(
                "Fund %(code)s is closed: it cannot receive %(amount)s.",
                code=cf.fund.code,
                amount=_yuan(amount),
            ),
            "cf_id",
        )
    if resident is not None and resident.community_id != org.community_id:
        _refuse(_l("The donor is not a resident of this community."), "resident_id")
    if anonymous:
        resident, source_name, publish_name = None, "", False
    elif k == InflowKind.DONATION and resident is None and not source_name.strip():
        _refuse(_l("Name the donor, or mark the donation anonymous."), "source_name")
    labels = {
        InflowKind.DONATION: _l("Donation to %(fund)s"),
        InflowKind.GRANT: _l("Government grant to %(fund)s"),
        InflowKind.TRANSFER: _l("Transfer from the community economy to %(fund)s"),
        InflowKind.RETURN: _l("Investment return of %(fund)s"),
    }
    summary = str(labels[k]).replace("%(fund)s", cf.fund.name)[:300]
    rid = resident.id if resident else None
    vid = _post(
        book,
        date,
        summary,
        [
            ledger.LineInput(account_id=_account(book, CASH).id, debit=amount, resident_id=rid),
            ledger.LineInput(
                account_id=_revenue(book, INFLOW_ACCOUNT[k], cf.fund).id,
                credit=amount,
                fund_id=cf.fund_id,
                resident_id=rid,
            ),
        ],
        actor,
    )
    i = Inflow(
        community_id=cf.community_id,
        organisation_id=cf.organisation_id,
        cf_id=cf.id,
        kind=k.value,
        date=date,
        amount=amount,
        source_name=source_name.strip()[:200],
        resident_id=rid,
        anonymous=anonymous,
        publish_name=publish_name,
        voucher_id=vid,
        recorded_by_id=actor.id,
    )
    db.session.add(i)
    db.session.flush()
    return i


# The community enterprise's side of a transfer (小企业会计准则): a gift to the community fund
# is 营业外支出 paid from the bank.
ENTERPRISE_EXPENSE = {"SME_2011": "5711"}
ENTERPRISE_CASH = "1002"


def transfer_sources(org: Organisation) -> list[Organisation]:
    """The community enterprises that can transfer into this foundation's funds: organisations
    of the foundation's community keeping a book whose gifts the ledger knows how to book."""
    return list(
        db.session.scalars(
            sa.select(Organisation)
            .join(Book, Book.organisation_id == Organisation.id)
            .where(
                Organisation.community_id == org.community_id,
                Organisation.id != org.id,
                Book.standard.in_(list(ENTERPRISE_EXPENSE)),
            )
            .order_by(Organisation.name)
        )
    )


def record_transfer(
    cf: CommunityFund,
    *,
    enterprise: Organisation,
    amount: int,
    date: dt.date,
    note: str = "",
    actor: User,
) -> Inflow:
    """A transfer from the community economy (e.g. a share of a community enterprise's profit)
    into a community fund, booked in both books: the enterprise pays (Dr 5711 营业外支出,
    Cr 1002 银行存款) and the foundation receives into the fund (Dr 1002, Cr 4901 其他收入).
    Each voucher is in its own book, names the other organisation as counterparty on its lines
    and the other voucher's number in its memo; the inflow keeps both voucher ids. Both post
    inside one savepoint: if either is refused, neither is written."""
    org = _org(cf.organisation_id)
    policy.require(org, "prepare", user=actor)
    policy.require(enterprise, "prepare", user=actor)
    _positive(amount)
    if not cf.fund.active:
        _refuse(
            _l(
                "Fund %(code)s is closed: it cannot receive %(amount)s.",
                code=cf.fund.code,
                amount=_yuan(amount),
            ),
            "cf_id",
        )
    if enterprise.id == org.id or enterprise.community_id not in (
        org.community_id,
        cf.beneficiary_community_id,
    ):
        _refuse(
            _l(
                "A transfer from the community economy comes from an organisation of this community."
            ),
            "enterprise_id",
        )
    src_book = ledger.book_for(enterprise)
    expense_code = ENTERPRISE_EXPENSE.get(src_book.standard)
    if expense_code is None:
        _refuse(
            _l(
                "%(name)s keeps %(standard)s: a transfer is booked from a community enterprise's SME_2011 book.",
                name=enterprise.name,
                standard=src_book.standard,
            ),
            "enterprise_id",
        )
    assert expense_code is not None
    book = db.session.get_one(Book, cf.book_id)
    extra = f" · {note.strip()}" if note.strip() else ""
    out_summary = str(
        _l("Transfer to community fund %(fund)s (%(host)s)", fund=cf.fund.name, host=org.name)
    )
    in_summary = str(
        _l(
            "Transfer from the community economy to %(fund)s",
        )
    ).replace("%(fund)s", cf.fund.name)
    with db.session.begin_nested():
        out_vid = _post(
            src_book,
            date,
            (out_summary + extra)[:300],
            [
                ledger.LineInput(
                    account_id=_account(src_book, expense_code).id,
                    debit=amount,
                    counterparty_org_id=org.id,
                ),
                ledger.LineInput(
                    account_id=_account(src_book, ENTERPRISE_CASH).id,
                    credit=amount,
                    counterparty_org_id=org.id,
                ),
            ],
            actor,
        )
        out_no = db.session.get_one(Voucher, out_vid).number or f"#{out_vid}"
        memo = str(_l("Paid by %(name)s, voucher %(number)s", name=enterprise.name, number=out_no))
        in_vid = _post(
            book,
            date,
            (f"{in_summary} · {enterprise.name}{extra}")[:300],
            [
                ledger.LineInput(
                    account_id=_account(book, CASH).id,
                    debit=amount,
                    counterparty_org_id=enterprise.id,
                    memo=memo[:200],
                ),
                ledger.LineInput(
                    account_id=_revenue(book, INFLOW_ACCOUNT[InflowKind.TRANSFER], cf.fund).id,
                    credit=amount,
                    fund_id=cf.fund_id,
                    counterparty_org_id=enterprise.id,
                    memo=memo[:200],
                ),
            ],
            actor,
        )
        i = Inflow(
            community_id=cf.community_id,
            organisation_id=cf.organisation_id,
            cf_id=cf.id,
            kind=InflowKind.TRANSFER.value,
            date=date,
            amount=amount,
            source_name=enterprise.name[:200],
            voucher_id=in_vid,
            source_organisation_id=enterprise.id,
            source_voucher_id=out_vid,
            publish_name=True,
            recorded_by_id=actor.id,
        )
        db.session.add(i)
        db.session.flush()
    return i


def public_donor(i: Inflow) -> str | None:
    """The donor's name for public pages, only with consent (and the resident's own
    publish_name consent for a resident donor); None otherwise."""
    if i.anonymous or not i.publish_name:
        return None
    if i.resident_id is not None:
        return i.resident.name if i.resident.has_consent("publish_name") else None
    return i.source_name or None


def record_allocation(
    cf: CommunityFund,
    *,
    year: int,
    date: dt.date,
    kind: str,
    population: object,
    population_basis: str,
    part_hundreds: str,
    actor: User,
) -> Allocation:
    """The year's 社区保障资金 by formula (CF-4), posted as a receivable and grant income into
    the community's fund; the basis and the rounding are on the record."""
    org = _org(cf.organisation_id)
    policy.require(org, "prepare", user=actor)
    if not cf.public_finance:
        _refuse(
            _l("Fund %(code)s does not receive community public finance.", code=cf.fund.code),
            "cf_id",
        )
    if population_basis not in formula.BASES:
        _refuse(
            _l("The population basis is resident (常住) or registered (户籍)."), "population_basis"
        )
    try:
        amount = formula.public_finance(kind, population, part_hundreds)
    except ValueError:
        _refuse(
            _l(
                "CF-4: the population must be a non-negative whole number, the kind urban or rural, the rounding floor, ceil or proportional (got %(population)s, %(kind)s, %(mode)s).",
                population=str(population)[:40],
                kind=str(kind)[:20],
                mode=str(part_hundreds)[:20],
            ),
            "population",
        )
    if db.session.scalar(
        sa.select(Allocation.id).where(Allocation.cf_id == cf.id, Allocation.year == year)
    ):
        raise Conflict(
            _l("Fund %(code)s already has its %(year)d allocation.", code=cf.fund.code, year=year)
        )
    if not cf.fund.active:
        _refuse(_l("Fund %(code)s is closed.", code=cf.fund.code), "cf_id")
    book = db.session.get_one(Book, cf.book_id)
    summary = str(_l("Community public finance %(year)d", year=year))
    vid = _post(
        book,
        date,
        summary,
        [
            ledger.LineInput(account_id=_account(book, RECEIVABLE).id, debit=amount),
            ledger.LineInput(
                account_id=_revenue(book, INFLOW_ACCOUNT[InflowKind.ALLOCATION], cf.fund).id,
                credit=amount,
                fund_id=cf.fund_id,
            ),
        ],
        actor,
    )
    a = Allocation(
        community_id=cf.community_id,
        organisation_id=cf.organisation_id,
        cf_id=cf.id,
        year=year,
        date=date,
        kind=kind,
        population=int(population),  # type: ignore[call-overload]
        population_basis=population_basis,
        part_hundreds=part_hundreds,
        amount=amount,
        voucher_id=vid,
    )
    db.session.add(a)
    db.session.add(
        Inflow(
            community_id=cf.community_id,
            organisation_id=cf.organisation_id,
            cf_id=cf.id,
            kind=InflowKind.ALLOCATION.value,
            date=date,
            amount=amount,
            source_name=str(_l("Community public finance")),
            voucher_id=vid,
            recorded_by_id=actor.id,
        )
    )
    db.session.flush()
    return a


# --- disbursements -------------------------------------------------------------------------------


def _required_body(cf: CommunityFund, decision: str, amount: int) -> str | None:
    bodies = [r.body for r in cf.rules if r.decision == decision and amount > r.over_fen]
    if Body.COUNCIL in bodies:
        return Body.COUNCIL.value
    return bodies[0] if bodies else None


def _check_resolution(
    cf: CommunityFund,
    decision: str,
    amount: int,
    resolution: Resolution | None,
    project: Project | None,
    date: dt.date,
) -> None:
    need = _required_body(cf, decision, amount)
    if project is not None and cf.public_finance:
        need = Body.COUNCIL.value  # CF-5 ②: the council decides public finance
    if need is None:
        return
    label = _l("residents' council") if need == Body.COUNCIL else _l("fund committee")
    if resolution is None:
        _refuse(
            _l(
                "Fund %(code)s's rules: %(amount)s needs a passed resolution of the %(body)s.",
                code=cf.fund.code,
                amount=_yuan(amount),
                body=label,
            ),
            "resolution_id",
        )
    assert resolution is not None
    linked = resolution.cf_id == cf.id or (
        project is not None and resolution.project_id == project.id
    )
    if (
        resolution.body != need
        or not resolution.passed
        or not linked
        or resolution.meeting_date > date
        or resolution.organisation_id != cf.organisation_id
    ):
        _refuse(
            _l(
                "Resolution %(id)d does not authorise this: the rules ask for a passed %(body)s resolution on fund %(code)s or its project, dated on or before %(date)s.",
                id=resolution.id,
                body=label,
                code=cf.fund.code,
                date=date.isoformat(),
            ),
            "resolution_id",
        )


def available(cf: CommunityFund, as_of: dt.date | None = None) -> int:
    """What the fund may spend: its ledger balance, less an endowment's principal."""
    pos = positions(db.session.get_one(Book, cf.book_id), [cf.fund_id], as_of)[cf.fund_id]
    return pos.balance - principal(cf)


def disburse(
    cf: CommunityFund,
    *,
    amount: int,
    date: dt.date,
    category_code: str,
    purpose: str,
    payee: str,
    project: Project | None = None,
    budget: Budget | None = None,
    resolution: Resolution | None = None,
    memo: str = "",
    actor: User,
) -> Disbursement:
    """Spend from a fund, refused (nothing stored) when: the fund is restricted and the purpose
    is not one of its purpose tags; it would spend an endowment's principal or more than the
    fund holds; it exceeds its budget; the resolution the fund's rules require is missing; its
    project is not in implementation; the category is on the negative list."""
    org = _org(cf.organisation_id)
    policy.require(org, "prepare", user=actor)
    _positive(amount)
    if not payee.strip():
        _refuse(_l("Name the payee."), "payee")
    cat = category(org, category_code)
    if cat.negative_reason and (cf.public_finance or project is not None):
        _refuse(
            _l(
                "CF-5 negative list: %(category)s cannot be paid from community funds (%(reason)s); %(amount)s refused.",
                category=cat.name_zh,
                reason=cat.negative_reason,
                amount=_yuan(amount),
            ),
            "category",
        )
    purpose = (purpose or "").strip()
    if cf.fund.restricted and purpose not in cf.tags:
        _refuse(
            _l(
                "Fund %(code)s is restricted to %(tags)s; %(amount)s for %(purpose)s is another purpose.",
                code=cf.fund.code,
                tags="、".join(cf.tags),
                amount=_yuan(amount),
                purpose=purpose or "—",
            ),
            "purpose",
        )
    if project is not None:
        if project.cf_id != cf.id:
            _refuse(_l("The project belongs to another fund."), "project_id")
        if project.step != Step.IMPLEMENTATION:
            _refuse(
                _l(
                    "CF-5: spending is possible only in step ③ implementation; project %(id)d is at %(step)s.",
                    id=project.id,
                    step=project.step,
                ),
                "project_id",
            )
    elif cf.public_finance:
        _refuse(_l("CF-5: community public finance is spent only on a project."), "project_id")
    if budget is None and project is not None:
        budget = db.session.scalar(
            sa.select(Budget).where(Budget.project_id == project.id).order_by(Budget.id).limit(1)
        )
    if budget is not None:
        if budget.cf_id != cf.id:
            _refuse(_l("The budget belongs to another fund."), "budget_id")
        spent = budget_spent(budget)
        if spent + amount > budget.amount:
            _refuse(
                _l(
                    "Over budget: %(label)s has %(budget)s, %(spent)s spent, so %(amount)s is %(over)s too much.",
                    label=budget.label,
                    budget=_yuan(budget.amount),
                    spent=_yuan(spent),
                    amount=_yuan(amount),
                    over=_yuan(spent + amount - budget.amount),
                ),
                "amount",
            )
    _check_resolution(cf, "disburse", amount, resolution, project, date)
    book = db.session.get_one(Book, cf.book_id)
    spare, balance, keep = _spendable_from(cf, book, date)
    if amount > spare:
        if cf.fund.endowment:
            _refuse(
                _l(
                    "Endowment %(code)s: only returns may be spent; it holds %(balance)s of which %(principal)s is principal, so %(amount)s would spend principal.",
                    code=cf.fund.code,
                    balance=_yuan(balance),
                    principal=_yuan(keep),
                    amount=_yuan(amount),
                ),
                "amount",
            )
        _refuse(
            _l(
                "Fund %(code)s holds %(balance)s on %(date)s; it cannot spend %(amount)s.",
                code=cf.fund.code,
                balance=_yuan(balance),
                date=date.isoformat(),
                amount=_yuan(amount),
            ),
            "amount",
        )
    summary = str(_l("Spending of %(fund)s: %(category)s", fund=cf.fund.name, category=cat.name_zh))
    vid = _post(
        book,
        date,
        summary[:300],
        [
            ledger.LineInput(
                account_id=_account(book, PROGRAMME).id, debit=amount, fund_id=cf.fund_id
            ),
            ledger.LineInput(account_id=_account(book, CASH).id, credit=amount),
        ],
        actor,
    )
    d = Disbursement(
        community_id=cf.community_id,
        organisation_id=cf.organisation_id,
        cf_id=cf.id,
        project_id=project.id if project else None,
        budget_id=budget.id if budget else None,
        category_id=cat.id,
        resolution_id=resolution.id if resolution else None,
        purpose=purpose[:60],
        date=date,
        amount=amount,
        payee=payee.strip()[:200],
        memo=memo.strip()[:300],
        voucher_id=vid,
        recorded_by_id=actor.id,
    )
    db.session.add(d)
    db.session.flush()
    return d


# --- releases of restriction (3102 → 3101) -------------------------------------------------------


def release(
    cf: CommunityFund,
    *,
    amount: int,
    date: dt.date,
    resolution: Resolution,
    reason: str,
    actor: User,
) -> Release:
    """A restricted purpose was met: move ``amount`` of the fund's restricted net assets to
    unrestricted (业务活动表 line 40), citing the decision that met it. At most the
    fund's restricted part (less an endowment's principal)."""
    org = _org(cf.organisation_id)
    policy.require(org, "prepare", user=actor)
    _positive(amount)
    if not cf.fund.restricted:
        _refuse(
            _l("Fund %(code)s is not restricted: nothing to release.", code=cf.fund.code), "cf_id"
        )
    if not reason.strip():
        _refuse(_l("Say which restricted purpose was met."), "reason")
    if resolution is None:
        _refuse(_l("A release cites the decision that met the restriction."), "resolution_id")
    if (
        resolution.organisation_id != org.id
        or not resolution.passed
        or resolution.meeting_date > date
    ):
        _refuse(
            _l("Resolution %(id)d does not authorise this release.", id=resolution.id),
            "resolution_id",
        )
    if resolution.cf_id != cf.id:
        _refuse(_l("Resolution %(id)d is about another fund.", id=resolution.id), "resolution_id")
    need = _required_body(cf, "release", amount)
    if need is not None and resolution.body != need:
        _refuse(
            _l(
                "Fund %(code)s's rules ask for a %(body)s decision for this release.",
                code=cf.fund.code,
                body=need,
            ),
            "resolution_id",
        )
    book = db.session.get_one(Book, cf.book_id)
    pos = positions(book, [cf.fund_id])[cf.fund_id]
    restricted_left = pos.balance - pos.unrestricted - principal(cf)
    if amount > restricted_left:
        _refuse(
            _l(
                "Fund %(code)s has %(left)s of restricted net assets that may be released; %(amount)s asked.",
                code=cf.fund.code,
                left=_yuan(max(restricted_left, 0)),
                amount=_yuan(amount),
            ),
            "amount",
        )
    summary = str(_l("Restriction of %(fund)s met: released to unrestricted", fund=cf.fund.name))
    vid = _post(
        book,
        date,
        summary[:300],
        [
            ledger.LineInput(
                account_id=_account(book, RESTRICTED).id, debit=amount, fund_id=cf.fund_id
            ),
            ledger.LineInput(
                account_id=_account(book, UNRESTRICTED).id, credit=amount, fund_id=cf.fund_id
            ),
        ],
        actor,
    )
    r = Release(
        community_id=cf.community_id,
        organisation_id=cf.organisation_id,
        cf_id=cf.id,
        resolution_id=resolution.id,
        date=date,
        amount=amount,
        reason=reason.strip()[:300],
        voucher_id=vid,
    )
    db.session.add(r)
    db.session.flush()
    return r


# --- fund statement = ledger balances ------------------------------------------------------------


@dataclass(frozen=True)
class FundCheck:
    cf: CommunityFund
    records: int  # inflows − disbursements by this domain's records
    ledger: int  # the fund's balance by the ledger
    principal: int

    @property
    def ok(self) -> bool:
        return self.records == self.ledger and self.ledger >= self.principal


def check_statements(org: Organisation, as_of: dt.date | None = None) -> list[FundCheck]:
    """Every community fund: its statement by this domain's records against the ledger's
    balances for that fund, and an endowment's principal against its balance."""
    funds = list_funds(org)
    if not funds:
        return []
    book = db.session.get_one(Book, funds[0].book_id)
    pos = positions(book, [cf.fund_id for cf in funds], as_of)

    def sums(model) -> dict[int, int]:
        q = sa.select(model.cf_id, sa.func.sum(model.amount)).where(model.organisation_id == org.id)
        if as_of is not None:
            q = q.where(model.date <= as_of)
        return {k: int(v) for k, v in db.session.execute(q.group_by(model.cf_id))}

    inflows, outflows = sums(Inflow), sums(Disbursement)
    return [
        FundCheck(
            cf=cf,
            records=inflows.get(cf.id, 0) - outflows.get(cf.id, 0),
            ledger=pos[cf.fund_id].balance,
            principal=principal(cf),
        )
        for cf in funds
    ]


@dataclass(frozen=True)
class FundStatementView:
    """One fund over a period: opening, inflows by source, outflows by project, closing."""

    cf: CommunityFund
    start: dt.date
    end: dt.date
    opening: int
    inflows: dict[str, int]
    outflows: dict[str, int]
    releases: int
    closing: int

    @property
    def consistent(self) -> bool:
        return self.closing == self.opening + sum(self.inflows.values()) - sum(
            self.outflows.values()
        )


def fund_statement(cf: CommunityFund, start: dt.date, end: dt.date) -> FundStatementView:
    if end < start:
        _refuse(_l("The start date is after the end date."), "start")
    book = db.session.get_one(Book, cf.book_id)
    opening = positions(book, [cf.fund_id], start - dt.timedelta(days=1))[cf.fund_id].balance
    closing = positions(book, [cf.fund_id], end)[cf.fund_id].balance
    ins: dict[str, int] = defaultdict(int)
    for kind, amount in db.session.execute(
        sa.select(Inflow.kind, sa.func.sum(Inflow.amount))
        .where(Inflow.cf_id == cf.id, Inflow.date >= start, Inflow.date <= end)
        .group_by(Inflow.kind)
    ):
        ins[kind] += int(amount)
    outs: dict[str, int] = defaultdict(int)
    for title, amount in db.session.execute(
        sa.select(sa.func.coalesce(Project.title, ""), sa.func.sum(Disbursement.amount))
        .outerjoin(Project, Project.id == Disbursement.project_id)
        .where(Disbursement.cf_id == cf.id, Disbursement.date >= start, Disbursement.date <= end)
        .group_by(Project.title)
    ):
        outs[title] += int(amount)
    rel = int(
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Release.amount), 0)).where(
                Release.cf_id == cf.id, Release.date >= start, Release.date <= end
            )
        )
        or 0
    )
    return FundStatementView(cf, start, end, opening, dict(ins), dict(outs), rel, closing)


# --- ¥1 rent, resources for services (CF-7) ------------------------------------------------------


def record_commitment(
    org: Organisation,
    *,
    tenant: str,
    premises: str,
    year: int,
    date: dt.date,
    sessions_promised: int,
    value_claimed_fen: int,
    rent_fen: int = 100,
    actor: User,
) -> ServiceCommitment:
    """A ¥1-rent lease: the rent is booked (Dr 1002, Cr 4901); the promised sessions and their
    claimed value are a register of commitments, reported, never booked as income."""
    policy.require(org, "prepare", user=actor)
    book = host_book(org)
    _positive(rent_fen, "rent_fen")
    if not tenant.strip() or not premises.strip():
        _refuse(_l("Name the tenant and the premises."), "tenant")
    if sessions_promised <= 0 or value_claimed_fen < 0:
        _refuse(
            _l("Promise at least one session, with a non-negative claimed value."),
            "sessions_promised",
        )
    vid = _post(
        book,
        date,
        str(_l("One-yuan rent %(year)d: %(premises)s", year=year, premises=premises.strip()))[:300],
        [
            ledger.LineInput(account_id=_account(book, CASH).id, debit=rent_fen),
            ledger.LineInput(account_id=_revenue(book, OTHER_REVENUE, None).id, credit=rent_fen),
        ],
        actor,
    )
    c = ServiceCommitment(
        community_id=org.community_id,
        organisation_id=org.id,
        tenant=tenant.strip()[:200],
        premises=premises.strip()[:200],
        year=year,
        rent_fen=rent_fen,
        rent_voucher_id=vid,
        sessions_promised=sessions_promised,
        value_claimed_fen=value_claimed_fen,
    )
    db.session.add(c)
    db.session.flush()
    return c


def record_delivery(
    c: ServiceCommitment,
    *,
    date: dt.date,
    sessions: int,
    description: str,
    verified_by: str | None,
    actor: User,
) -> ServiceDelivery:
    policy.require(_org(c.organisation_id), "prepare", user=actor)
    if sessions <= 0:
        _refuse(_l("A delivery has at least one session."), "sessions")
    d = ServiceDelivery(
        community_id=c.community_id,
        commitment_id=c.id,
        date=date,
        sessions=sessions,
        description=(description or "").strip()[:300],
        verified_by=(verified_by or "").strip()[:100] or None,
    )
    db.session.add(d)
    db.session.flush()
    return d


def list_commitments(org: Organisation) -> list[ServiceCommitment]:
    return list(
        db.session.scalars(
            sa.select(ServiceCommitment)
            .where(ServiceCommitment.organisation_id == org.id)
            .order_by(ServiceCommitment.id)
        )
    )


# --- disclosure calendar (CF-8) ------------------------------------------------------------------


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    days = [
        31,
        29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ]
    return dt.date(year, month, min(d.day, days[month - 1]))


def schedule_disclosures(p: Project) -> list[Disclosure]:
    """A project over 6 months discloses at least every 3 months; every project within 3
    months after its end; a related-party project within 30 days of its start."""
    due: list[tuple[str, dt.date]] = []
    if _add_months(p.start, 6) < p.end:
        d = _add_months(p.start, 3)
        while d < p.end:
            due.append(("quarterly", d))
            d = _add_months(d, 3)
    due.append(("final", _add_months(p.end, 3)))
    if p.related_party:
        due.append(("related_party", p.start + dt.timedelta(days=30)))
    have = {
        (x.kind, x.due)
        for x in db.session.scalars(sa.select(Disclosure).where(Disclosure.project_id == p.id))
    }
    out = []
    for kind, when in due:
        if (kind, when) in have:
            continue
        x = Disclosure(
            community_id=p.community_id,
            organisation_id=p.organisation_id,
            project_id=p.id,
            kind=kind,
            due=when,
        )
        db.session.add(x)
        out.append(x)
    db.session.flush()
    return out


def disclosure_calendar(org: Organisation) -> list[Disclosure]:
    return list(
        db.session.scalars(
            sa.select(Disclosure)
            .where(Disclosure.organisation_id == org.id)
            .order_by(Disclosure.due, Disclosure.id)
        )
    )


def overdue(org: Organisation, today: dt.date) -> list[Disclosure]:
    return [x for x in disclosure_calendar(org) if x.met_on is None and x.due < today]


def mark_disclosed(
    org: Organisation, *, through: dt.date, on: dt.date, note: str, actor: User
) -> int:
    """A published disclosure report meets every open disclosure due on or before ``through``
    (call it when a report is published). Returns how many were met."""
    policy.require(org, "prepare", user=actor)
    return _mark_disclosed(org, through, on, note)


def on_report_published(book: Book, *, through: dt.date, on: dt.date | None = None) -> int:
    """Receiver for a published disclosure report of ``book`` covering up to ``through``: when
    the book hosts community funds, the disclosures due by then are met (CF-8). The publisher
    was already authorised to publish, so no further role check; 0 for any other book.
    (Wire-up: the transparency layer announces publication; see the report.)"""
    if book.standard not in NPO_STANDARDS:
        return 0
    org = _org(book.organisation_id)
    note = str(_l("Disclosure report published for %(through)s", through=through.isoformat()))
    return _mark_disclosed(org, through, on or dt.date.today(), note)


def _mark_disclosed(org: Organisation, through: dt.date, on: dt.date, note: str) -> int:
    n = 0
    for x in disclosure_calendar(org):
        if x.met_on is None and x.due <= through:
            x.met_on, x.met_note = on, (note or "")[:300]
            n += 1
    db.session.flush()
    return n
