"""``flask ledger transition-npo2024``: open an organisation's 2026 book (NPO_2024) from another
organisation's 2025 book (NPO_2004) by the transition rules (ledger.transition).

One transaction: on any problem nothing is stored, the problems go to stderr, exit code 1.
On success the openings are a draft: a reviewer approves and posts them as usual.
"""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.audit import audited_command, note
from core.db import db
from core.errors import DomainError
from core.models import User

from . import opening, transition
from . import services as svc
from .cli import _fail, _language, lang_option, ledger_cli


def _problems(e: DomainError) -> list[str]:
    lines = [str(e.message)]
    for _key, messages in sorted(e.errors.items()):
        lines.extend(str(m) for m in messages if str(m) != str(e.message))
    return lines


@ledger_cli.command("transition-npo2024")
@click.option(
    "--from-organisation",
    "source_id",
    required=True,
    type=int,
    help="Keeps the 2025 NPO_2004 book.",
)
@click.option(
    "--to-organisation", "target_id", required=True, type=int, help="Keeps the new NPO_2024 book."
)
@click.option(
    "--user", "username", required=True, help="The preparer (制单) entering the openings."
)
@click.option(
    "--year",
    default=transition.LAST_OLD_YEAR,
    show_default=True,
    help="The last year of the old book.",
)
@click.option(
    "--adjustments",
    "adjustments",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="CSV (科目编码, 借方, 贷方[, 基金]) in the new chart: items never recorded and other adjustments.",
)
@lang_option
@audited_command("ledger transition-npo2024")
def transition_npo2024(source_id, target_id, username, year, adjustments, lang):
    """Open the NPO_2024 book's openings from the NPO_2004 book's closing balances."""
    note(source=source_id, target=target_id, year=year)
    with _language(lang):
        user = db.session.scalar(sa.select(User).where(User.username == username))
        if user is None:
            _fail([str(_l("No user %(name)s.", name=username))], rollback=False)
        try:
            source = transition.book_of_organisation(source_id)
            target = transition.book_of_organisation(target_id)
            rows = opening.read_balance_csv(adjustments.read_bytes()) if adjustments else []
            plan, voucher = transition.open_from_npo2004(
                source, target, actor=user, year=year, adjustments=rows
            )
        except DomainError as e:
            _fail(_problems(e))
        lines = [
            (m.old_code, m.old_name, m.new_code, m.fund, m.unit, m.balance) for m in plan.moved
        ]
        totals = opening.totals_of(voucher.lines)
        db.session.commit()
        click.echo(
            str(
                _l(
                    "Draft openings %(id)d dated %(date)s:",
                    id=voucher.id,
                    date=plan.date.isoformat(),
                )
            )
        )
        for old_code, old_name, new_code, fund, unit, balance in lines:
            exp = svc.unit_exponent(target, unit) or 0
            side = _l("Dr") if balance > 0 else _l("Cr")
            amount = opening.format_minor(abs(balance), exp)
            fund_text = f" [{fund}]" if fund else ""
            click.echo(f"  {old_code} {old_name} → {new_code}{fund_text} {side} {amount} {unit}")
        for unit, (dr, cr) in totals.items():
            exp = svc.unit_exponent(target, unit) or 0
            click.echo(
                str(
                    _l(
                        "%(unit)s: debits %(dr)s = credits %(cr)s",
                        unit=unit,
                        dr=opening.format_minor(dr, exp),
                        cr=opening.format_minor(cr, exp),
                    )
                )
            )
        if plan.to_verify:
            click.echo(
                str(
                    _l(
                        "Mapping rows still marked [verify] moved %(codes)s: have an accountant confirm them against 财会〔2025〕6号 before the openings are approved.",
                        codes=", ".join(plan.to_verify),
                    )
                )
            )
