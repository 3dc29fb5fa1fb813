"""Pages of background jobs (core.jobs): status with a progress bar, and the download.

A job is shown only to the user who queued it (and platform admins); anyone else gets 404,
as for a job that does not exist. The download also re-checks that the user may still read
the organisation, within an auditor's grant (core.auditor_access) for the dates it covers.
"""

from __future__ import annotations

import datetime as dt
import json

import click
from flask import Blueprint, current_app, g, jsonify, render_template, send_file
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from . import auditor_access, jobs
from .audit import audited_command, note
from .auth import authenticated_user, can_read
from .db import db
from .errors import NotFound
from .models import Job, User

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

STATUS_LABELS = {
    jobs.QUEUED: _l("Waiting to start"),
    jobs.RUNNING: _l("Running"),
    jobs.DONE: _l("Ready"),
    jobs.FAILED: _l("Failed"),
}


def _app():
    return current_app._get_current_object()  # type: ignore[attr-defined]


def _job_dates(job: Job) -> list[dt.date]:
    """The dates a job's file covers (``params["dates"]``, ISO days), for the auditor check."""
    try:
        return [dt.date.fromisoformat(d) for d in json.loads(job.params or "{}").get("dates", [])]
    except (ValueError, TypeError, AttributeError):
        return []


def _visible_job(job_id: int) -> tuple[Job, User]:
    user = authenticated_user()
    job = db.session.get(Job, job_id)
    if job is None or (job.created_by_id != user.id and not user.is_platform_admin):
        raise NotFound(_l("No such job."))
    if job.organisation is not None:
        can_read(job.organisation, user)
        if auditor_access.is_limited_auditor(user, job.organisation):
            g.audit_reads = True
            note(auditor=True, job_id=job.id, statement=job.kind)
            auditor_access.check(user, job.organisation, _job_dates(job))
    return job, user


@bp.get("/<id:job_id>")
@login_required
def job_page(job_id: int):
    job, _user = _visible_job(job_id)
    if job.status == jobs.QUEUED:
        jobs.dispatch(_app(), job.id)  # a pool that lost it
    return render_template("core/job.html", job=job, status_labels=STATUS_LABELS)


@bp.get("/<id:job_id>.json")
@login_required
def job_status(job_id: int):
    job, _user = _visible_job(job_id)
    return jsonify(jobs.job_json(job))


@bp.get("/<id:job_id>/download")
@login_required
def job_download(job_id: int):
    job, _user = _visible_job(job_id)
    path = jobs.result_file(job)
    if path is None:
        raise NotFound(_l("The file of this job is not ready, or no longer kept."))
    resp = send_file(
        path,
        mimetype=job.result_mimetype or "application/octet-stream",
        as_attachment=True,
        download_name=job.result_name or path.name,
        max_age=0,
    )
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.teardown_app_request
def _dispatch_queued(_exc):
    """Queued jobs go to the pool once the request has committed (after_request did)."""
    if _exc is None and g.pop("jobs_queued", False):
        jobs.dispatch(_app())


def register(app) -> None:
    @app.cli.group("jobs")
    def jobs_cli():
        """Background jobs (后台任务)."""

    @jobs_cli.command("work")
    @click.option("--max-jobs", type=int, default=0, help="Stop after this many (0: until idle).")
    @audited_command("jobs work")
    def work_cmd(max_jobs: int):
        """Claim and run queued jobs until none is left (run it from cron or a service on any
        machine that sees the database and the instance folder)."""
        n = jobs.work(max_jobs=max_jobs)
        click.echo(f"ran {n} job(s)")

    @jobs_cli.command("prune")
    @click.option("--days", type=click.IntRange(min=0), default=7, show_default=True)
    @audited_command("jobs prune")
    def prune_cmd(days: int):
        """Delete the files of jobs finished more than DAYS days ago."""
        n = jobs.prune(dt.timedelta(days=days))
        db.session.commit()
        click.echo(f"pruned {n} file(s)")
