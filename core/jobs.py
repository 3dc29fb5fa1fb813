"""Background jobs (后台任务): big exports and statements that must not block a request.

No extra server in the embedded default: a job is a row in ``jobs`` (core.models.Job), and any
app process may run it.

* ``register_job_kind(name, fn)``: ``fn(ctx: JobContext) -> JobFile`` builds the file; it may
  call ``ctx.progress(percent, note)`` as it goes.
* ``run_or_queue(kind, params, size=, threshold=, ...)``: below the threshold the job function
  runs inline and the file is the answer; above it a job row is queued and the answer points at
  the job's page (``/jobs/<id>``: a progress bar, then the download).
* Workers claim a job with one atomic ``UPDATE jobs SET status = 'running' … WHERE id = :id AND
  (status = 'queued' OR <stale>)``: whichever process's UPDATE matches the row wins, the other's
  matches nothing (a row lock on PostgreSQL, the write lock on SQLite). A worker refreshes
  ``heartbeat_at`` with every progress report; a job whose worker died (no heartbeat for
  ``JOBS_STALE_SECONDS``) may be claimed again, up to ``MAX_ATTEMPTS`` times.
* Who runs them: ``JOBS_EXECUTOR = "pool"`` (the default outside tests) hands queued jobs to a
  small process pool of this app process once the request has committed; ``"none"`` leaves
  them to ``flask jobs work`` (one or more worker processes, on any machine that sees the
  database and the instance folder). The pool is only a cache of processes: correctness rests
  on the database row, so several app processes may each have one.
* Results are files under ``<instance>/jobs/<id>/``, served only to the user who asked
  (core.jobs_views).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import json
import logging
import os
import pickle
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, g, has_request_context, redirect, url_for

from .db import db, read_only_transactions, rowcount, utcnow
from .downloads import download
from .errors import DomainError
from .models import Job, Organisation, User

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
FINISHED = frozenset({DONE, FAILED})
MAX_ATTEMPTS = 3
DEFAULT_STALE_SECONDS = 600


@dataclass
class JobFile:
    """What a job function returns: the download's name and type, and its bytes (or ``None``
    when the function wrote ``ctx.output_dir / filename`` itself, e.g. a big PDF)."""

    filename: str
    mimetype: str
    data: bytes | None = None


@dataclass
class JobContext:
    """What a job function gets: its parameters, who asked, where to write, how to report."""

    params: dict
    organisation_id: int | None
    user_id: int | None
    output_dir: Path
    job_id: int | None = None  # None: running inline in a request
    worker: str | None = None
    notes: list[str] = field(default_factory=list)

    def progress(self, percent: int, note: str = "") -> None:
        """Report progress (0–100). Committed at once, so the job's page shows it; it also
        tells the other workers that this one is alive."""
        if self.job_id is None:
            return
        rowcount(
            sa.update(Job)
            .where(Job.id == self.job_id, Job.worker == self.worker, Job.status == RUNNING)
            .values(
                progress=max(0, min(100, int(percent))),
                progress_note=note[:200],
                heartbeat_at=utcnow(),
            )
        )
        db.session.commit()

    @property
    def organisation(self) -> Organisation | None:
        return db.session.get(Organisation, self.organisation_id) if self.organisation_id else None

    @property
    def user(self) -> User | None:
        return db.session.get(User, self.user_id) if self.user_id else None


JobFn = Callable[[JobContext], JobFile]
JOB_KINDS: dict[str, JobFn] = {}


def register_job_kind(name: str, fn: JobFn) -> None:
    """Make ``name`` a job kind run by ``fn`` (at import time, once per kind)."""
    if name in JOB_KINDS and JOB_KINDS[name] is not fn:
        raise ValueError(f"job kind {name} is registered twice")
    JOB_KINDS[name] = fn


# --- files ------------------------------------------------------------------------------------

_SAFE_NAME = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


def _safe_filename(name: str) -> str:
    name = _SAFE_NAME.sub("_", name).strip("._") or "result"
    return name[:150]


def jobs_dir() -> Path:
    return Path(current_app.instance_path) / "jobs"


def result_file(job: Job) -> Path | None:
    """The job's file on disk, if it is done and the file is still there."""
    if job.status != DONE or not job.result_path:
        return None
    path = (Path(current_app.instance_path) / job.result_path).resolve()
    if jobs_dir().resolve() not in path.parents or not path.is_file():
        return None
    return path


# --- queueing ---------------------------------------------------------------------------------


def _params_text(params: dict) -> str:
    return json.dumps(params, ensure_ascii=False, sort_keys=True, default=str)


def queue_job(
    kind: str,
    params: dict,
    *,
    organisation: Organisation | None = None,
    user: User | None = None,
    book_id: int | None = None,
) -> Job:
    """Queue a job, or return the same user's identical job that is queued, running or done
    with its file still there (a second click, or a browser prefetching the link, queues
    nothing new). Flushes; the request commits."""
    if kind not in JOB_KINDS:
        raise ValueError(f"unknown job kind {kind}")
    text = _params_text(params)
    same = db.session.scalars(
        sa.select(Job)
        .where(
            Job.kind == kind,
            Job.params == text,
            Job.created_by_id == getattr(user, "id", None),
            Job.organisation_id == getattr(organisation, "id", None),
            Job.status.in_([QUEUED, RUNNING, DONE]),
        )
        .order_by(Job.id.desc())
        .limit(1)
    ).first()
    if same is not None and (same.status != DONE or result_file(same) is not None):
        return same
    job = Job(
        kind=kind,
        params=text,
        status=QUEUED,
        progress=0,
        progress_note="",
        attempts=0,
        organisation_id=getattr(organisation, "id", None),
        community_id=getattr(organisation, "community_id", None),
        book_id=book_id,
        created_by_id=getattr(user, "id", None),
        created_at=utcnow(),
    )
    db.session.add(job)
    db.session.flush()
    if has_request_context():
        g.jobs_queued = True  # core.jobs_views hands it to the pool once the request committed
    return job


def run_inline(
    kind: str, params: dict, *, organisation: Organisation | None, user: User | None
) -> JobFile:
    """Run the job function now, in this request (small inputs)."""
    ctx = JobContext(
        params=json.loads(_params_text(params)),
        organisation_id=getattr(organisation, "id", None),
        user_id=getattr(user, "id", None),
        output_dir=jobs_dir() / "inline" / uuid.uuid4().hex,
    )
    result = JOB_KINDS[kind](ctx)
    if result.data is None:  # written to a file: read it back and drop the folder
        path = ctx.output_dir / result.filename
        result.data = path.read_bytes()
        path.unlink()
        ctx.output_dir.rmdir()
    return result


def run_or_queue(
    kind: str,
    params: dict,
    *,
    size: int,
    threshold: int,
    organisation: Organisation | None = None,
    user: User | None = None,
    book_id: int | None = None,
    api: bool = False,
):
    """Answer a request for a file: rendered inline when ``size`` is below ``threshold``,
    else queued as a job: a redirect to the job's page (HTML) or 202 with the job (``api``)."""
    if size < threshold:
        f = run_inline(kind, params, organisation=organisation, user=user)
        return download(f.data or b"", f.filename, f.mimetype, private=True)
    job = queue_job(kind, params, organisation=organisation, user=user, book_id=book_id)
    if api:
        body = job_json(job)
        return body, 202, {"Location": body["status_url"]}
    return redirect(url_for("jobs.job_page", job_id=job.id), 303)


def job_json(job: Job) -> dict:
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "progress_note": job.progress_note,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "error": job.error,
        "result_name": job.result_name,
        "result_size": job.result_size,
        "status_url": url_for("jobs.job_status", job_id=job.id),
        "page_url": url_for("jobs.job_page", job_id=job.id),
        "download_url": url_for("jobs.job_download", job_id=job.id) if job.status == DONE else None,
    }


# --- claiming and running ---------------------------------------------------------------------


def _stale_after() -> dt.timedelta:
    return dt.timedelta(
        seconds=int(current_app.config.get("JOBS_STALE_SECONDS", DEFAULT_STALE_SECONDS))
    )


def _claimable(cutoff: dt.datetime):
    return sa.or_(
        Job.status == QUEUED,
        sa.and_(
            Job.status == RUNNING,
            Job.heartbeat_at < cutoff,
            Job.attempts < MAX_ATTEMPTS,
        ),
    )


def claimable_ids(limit: int = 10) -> list[int]:
    """Jobs a worker may try to claim, oldest first (a read: the claim decides)."""
    cutoff = utcnow() - _stale_after()
    # A plain read that holds no lock (SQLite: a deferred BEGIN), ended at once: a worker
    # between looking and claiming must not keep the others waiting.
    with read_only_transactions():
        ids = list(
            db.session.scalars(
                sa.select(Job.id).where(_claimable(cutoff)).order_by(Job.id).limit(limit)
            )
        )
        db.session.commit()
    return ids


def try_claim(job_id: int, worker: str) -> bool:
    """Claim one job: an atomic UPDATE that matches only a queued (or abandoned) row. Of
    several workers racing for the same job exactly one gets ``True``. Commits."""
    now = utcnow()
    won = rowcount(
        sa.update(Job)
        .where(Job.id == job_id, _claimable(now - _stale_after()))
        .values(
            status=RUNNING,
            worker=worker,
            heartbeat_at=now,
            started_at=now,
            attempts=Job.attempts + 1,
            progress=0,
        )
    )
    db.session.commit()
    return won == 1


def fail_abandoned() -> int:
    """Jobs whose worker died ``MAX_ATTEMPTS`` times are failed, not retried for ever."""
    cutoff = utcnow() - _stale_after()
    n = rowcount(
        sa.update(Job)
        .where(Job.status == RUNNING, Job.heartbeat_at < cutoff, Job.attempts >= MAX_ATTEMPTS)
        .values(status=FAILED, finished_at=utcnow(), error="worker stopped responding")
    )
    db.session.commit()
    return n


def _finish(job_id: int, worker: str, **values) -> bool:
    n = rowcount(
        sa.update(Job)
        .where(Job.id == job_id, Job.worker == worker, Job.status == RUNNING)
        .values(finished_at=utcnow(), **values)
    )
    db.session.commit()
    return n == 1


def run_claimed(job_id: int, worker: str) -> str:
    """Run a job this worker has claimed; returns its final status. A failure of the job
    function fails the job (its message kept), never the worker."""
    job = db.session.get(Job, job_id)
    if job is None:
        return FAILED
    fn = JOB_KINDS.get(job.kind)
    out_dir = jobs_dir() / str(job.id)
    ctx = JobContext(
        params=json.loads(job.params or "{}"),
        organisation_id=job.organisation_id,
        user_id=job.created_by_id,
        output_dir=out_dir,
        job_id=job.id,
        worker=worker,
    )
    try:
        if fn is None:
            raise LookupError(f"unknown job kind {job.kind}")
        out_dir.mkdir(parents=True, exist_ok=True)
        result = fn(ctx)
        name = _safe_filename(result.filename)
        path = out_dir / name
        if result.data is not None:
            path.write_bytes(result.data)
        elif name != result.filename:
            (out_dir / result.filename).rename(path)
        db.session.rollback()  # a job writes files, never rows: drop whatever it flushed
        _finish(
            job_id,
            worker,
            status=DONE,
            progress=100,
            result_path=str(path.relative_to(current_app.instance_path)),
            result_name=result.filename[:200],
            result_mimetype=result.mimetype[:120],
            result_size=path.stat().st_size,
        )
        return DONE
    except Exception as e:  # the job fails, the worker goes on
        db.session.rollback()
        message = str(e.message) if isinstance(e, DomainError) else f"{type(e).__name__}: {e}"
        log.exception("job %s (%s) failed", job_id, ctx.params)
        _finish(job_id, worker, status=FAILED, error=message[:2000])
        return FAILED


def prune(older_than: dt.timedelta) -> int:
    """Delete the files of jobs finished longer ago than ``older_than`` (their rows stay, as
    the record of who asked for what; the page then says the file is no longer kept)."""
    cutoff = utcnow() - older_than
    old = db.session.scalars(
        sa.select(Job).where(Job.finished_at < cutoff, Job.result_path.is_not(None))
    ).all()
    for job in old:
        path = (Path(current_app.instance_path) / (job.result_path or "")).resolve()
        if jobs_dir().resolve() in path.parents:
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                path.parent.rmdir()
        job.result_path = None
    db.session.flush()
    return len(old)


def new_worker_name() -> str:
    return f"{os.uname().nodename[:40]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def work(*, worker: str | None = None, first: int | None = None, max_jobs: int = 0) -> int:
    """Claim and run jobs until none is left (or ``max_jobs`` ran); ``first``: try that one
    first. Returns how many this worker ran."""
    worker = worker or new_worker_name()
    ran = 0
    fail_abandoned()
    while not max_jobs or ran < max_jobs:
        ids = ([first] if first else []) + claimable_ids()
        first = None
        claimed = next((i for i in ids if try_claim(i, worker)), None)
        if claimed is None:
            return ran
        run_claimed(claimed, worker)
        ran += 1
    return ran


# --- the embedded executor: a process pool per app process ----------------------------------

_POOL_APP = None  # in a pool process: the app it made once


def _pool_config(app) -> dict:
    """The app's settings that survive pickling (to build the same app in a pool process)."""
    out = {}
    for k, v in app.config.items():
        if not k.isupper():
            continue
        try:
            pickle.dumps(v)
        except Exception:
            continue
        out[k] = v
    out["INSTANCE_PATH"] = app.instance_path
    out["JOBS_EXECUTOR"] = "none"  # a pool process runs jobs, it does not hand them on
    return out


# The app factory a pool process calls, named rather than imported: core.app knows every
# package, and the packages that queue jobs must not import it (import-linter's layers).
APP_FACTORY = "core.app:create_app"


def _pool_main(config: dict, first: int | None) -> int:
    global _POOL_APP
    if _POOL_APP is None:
        module, _, name = str(config.get("JOBS_APP_FACTORY") or APP_FACTORY).partition(":")
        _POOL_APP = getattr(importlib.import_module(module), name)(config)
    with _POOL_APP.app_context():
        try:
            return work(first=first)
        finally:
            db.session.remove()


def executor_mode(app) -> str:
    return str(app.config.get("JOBS_EXECUTOR") or ("none" if app.testing else "pool"))


def dispatch(app, first: int | None = None):
    """Hand queued jobs to this process's pool (after the request committed). Safe to call
    often: a pool process that finds nothing to claim returns at once. Returns the pool's
    future (how many jobs that process ran), or None when there is no pool."""
    if executor_mode(app) != "pool":
        return None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    key = "commons_jobs_pool"
    pool = app.extensions.get(key)
    if pool is None:
        pool = ProcessPoolExecutor(
            max_workers=int(app.config.get("JOBS_WORKERS", 1)),
            mp_context=multiprocessing.get_context("spawn"),
        )
        app.extensions[key] = pool
    try:
        return pool.submit(_pool_main, _pool_config(app), first)
    except Exception:  # a broken pool: start a new one next time; the job stays queued
        app.extensions.pop(key, None)
        log.exception("could not hand job to the pool")
        return None


__all__ = [
    "JOB_KINDS",
    "JobContext",
    "JobFile",
    "claimable_ids",
    "dispatch",
    "job_json",
    "queue_job",
    "register_job_kind",
    "result_file",
    "run_claimed",
    "run_inline",
    "run_or_queue",
    "try_claim",
    "work",
]
