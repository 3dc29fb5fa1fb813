"""``flask points …``: the expiry run and the reconciliation. Each command commits once at the
end, or rolls back and stores nothing."""

from __future__ import annotations

import datetime as dt
import sys

import click
from flask.cli import AppGroup

from core.db import db
from core.errors import DomainError

from . import services as svc

points_cli = AppGroup("points", help="Points (积分): expiry runs and reconciliation.")


def _date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@points_cli.command("expire")
@click.option("--as-of", "as_of", required=True, help="Expire the lots lapsed by this date.")
@click.option("--issuer", "issuer_id", type=int, default=None)
def expire_cmd(as_of: str, issuer_id: int | None) -> None:
    """Post the expiry vouchers of every scheme (idempotent: a second run for the same date
    changes nothing)."""
    day = _date(as_of)
    assert day is not None
    try:
        runs = svc.expire_all(day, actor=None, issuer_id=issuer_id)
        db.session.commit()
    except DomainError as e:
        db.session.rollback()
        click.echo(f"refused: {e.message}", err=True)
        sys.exit(2)
    for run in runs:
        scheme = svc.get_scheme(run.scheme_id)
        click.echo(
            f"{scheme.issuer_id}\t{scheme.name}\t{day.isoformat()}\t"
            f"expired {svc.fmt_points(run.points, scheme.decimals)} from {run.holders} holders"
        )


@points_cli.command("reconcile")
@click.option("--issuer", "issuer_id", type=int, default=None)
@click.option("--as-of", "as_of", default=None)
@click.option("--deep", is_flag=True, help="Also total the lots, overall and per holder.")
def reconcile_cmd(issuer_id: int | None, as_of: str | None, deep: bool) -> None:
    """One line per issuer and scheme: holders vs the control account, in points and value.
    Exits 1 on any difference."""
    try:
        recs = svc.reconcile(issuer_id, _date(as_of), deep=deep)
    except DomainError as e:
        click.echo(f"refused: {e.message}", err=True)
        sys.exit(2)
    bad = 0
    for r in recs:
        d = r.decimals
        state = "OK" if r.ok else "DIFF " + "; ".join(r.problems)
        click.echo(
            f"issuer {r.issuer_id}\t{r.scheme}\t{r.unit}\tholders {svc.fmt_points(r.holders_points, d)}"
            f"\tcontrol {svc.fmt_points(r.control_points, d)}\tvalue {svc.fmt_fen(r.value_fen)}\t{state}"
        )
        bad += not r.ok
    db.session.rollback()
    if bad:
        sys.exit(1)


@points_cli.command("reminders")
@click.option("--issuer", "issuer_id", type=int, default=None)
@click.option("--days", type=click.IntRange(1, 366), default=svc.REMIND_DAYS, show_default=True)
@click.option("--as-of", "as_of", default=None)
def reminders_cmd(issuer_id: int | None, days: int, as_of: str | None) -> None:
    """The reminder list (PT-7): one line per holder and date whose points lapse within
    ``--days``: issuer, scheme, resident id, points, expiry date (no names)."""
    from sqlalchemy import select

    from .models import PointScheme

    q = select(PointScheme).order_by(PointScheme.id)
    if issuer_id is not None:
        q = q.where(PointScheme.issuer_id == issuer_id)
    for scheme in db.session.scalars(q):
        for rid, pts, until in svc.expiring_soon(scheme, today=_date(as_of), days=days):
            click.echo(
                f"{scheme.issuer_id}\t{scheme.name}\tresident {rid}\t"
                f"{svc.fmt_points(int(pts), scheme.decimals)}\t{until.isoformat()}"
            )
    db.session.rollback()
