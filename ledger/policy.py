"""Who may do what in a book: the one place that names the roles of each ledger step.

Services check these (``require``); views and the API ask the same questions (``may``) to
decide what to show, so a page never offers a button the service would refuse.
"""

from __future__ import annotations

from core.auth import require_role
from core.models import Organisation, Role, User

PREPARE = (Role.ADMIN, Role.PREPARER)  # 制单: create, edit, submit, discard, reverse
REVIEW = (Role.ADMIN, Role.REVIEWER)  # 审核: approve, reject
POST = (Role.ADMIN, Role.PREPARER, Role.REVIEWER)  # 过账
CLOSE = (Role.ADMIN, Role.REVIEWER)  # 结账, year-end closing
REOPEN = (Role.ADMIN,)  # 反结账, with a reason
MANAGE = (Role.ADMIN,)  # book policy (single-person mode), accounts on or off

ACTIONS = {
    "prepare": PREPARE,
    "review": REVIEW,
    "post": POST,
    "close": CLOSE,
    "reopen": REOPEN,
    "manage": MANAGE,
}


def roles_for(action: str) -> tuple[Role, ...]:
    return ACTIONS[action]


def require(organisation: Organisation, *actions: str, user: User) -> User:
    """NotPermitted unless ``user`` may do one of ``actions`` in the organisation's book."""
    roles = dict.fromkeys(r for a in actions for r in ACTIONS[a])
    return require_role(organisation, *roles, user=user)


def may(organisation: Organisation, action: str, *, user: User | None) -> bool:
    if user is None:
        return False
    if user.is_platform_admin:
        return True
    return bool(user.roles_in(organisation.id) & {str(r) for r in ACTIONS[action]})
