"""Background jobs (core.jobs, issue 16 item 5): a job row is claimed by exactly one worker
(an atomic UPDATE … WHERE status = 'queued'), with real commits on SQLite and PostgreSQL;
a worker that died leaves a job others may claim after the timeout; progress is committed as
it goes; a failing job fails with its message; the process pool runs a job in another process
that shares nothing with this one but the database and the instance folder."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import jobs
from core.db import db, utcnow
from core.models import Community, Job, Organisation, User


def _echo(ctx: jobs.JobContext) -> jobs.JobFile:
    ctx.progress(50, "half way")
    with db.engine.connect() as other:  # what another process sees while the job runs
        seen = other.execute(
            sa.select(Job.progress, Job.progress_note).where(Job.id == ctx.job_id)
        ).one()
    ctx.notes.append(f"{seen[0]} {seen[1]}")
    body = json.dumps({"params": ctx.params, "seen": list(seen)}).encode()
    return jobs.JobFile("回声.json", "application/json", body)


def _boom(ctx: jobs.JobContext) -> jobs.JobFile:
    raise RuntimeError("the printer caught fire")


jobs.register_job_kind("test.echo", _echo)
jobs.register_job_kind("test.boom", _boom)


def _queue(kind: str = "test.echo", **params) -> int:
    job_id = jobs.queue_job(kind, params or {"n": 1}).id
    db.session.commit()  # and no read after it: on SQLite that would hold the write lock
    return job_id


def _job(job_id: int) -> Job:
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job is not None
    return job


def test_two_runners_interleaved_one_claims(committing_app):
    job_id = _queue()
    # both read the queue and see the job …
    assert job_id in jobs.claimable_ids() and job_id in jobs.claimable_ids()
    # … but only the first UPDATE matches the queued row
    assert jobs.try_claim(job_id, "runner-a") is True
    assert jobs.try_claim(job_id, "runner-b") is False
    job = _job(job_id)
    assert (job.status, job.worker, job.attempts) == ("running", "runner-a", 1)


def test_two_runners_racing_in_threads_one_wins(committing_app):
    job_id = _queue()
    barrier = threading.Barrier(2)
    results: dict[str, bool] = {}

    def run(name: str) -> None:
        with committing_app.app_context():
            try:
                jobs.claimable_ids()  # each opens its own connection and reads the queue
                barrier.wait(timeout=30)
                results[name] = jobs.try_claim(job_id, name)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(n,)) for n in ("t1", "t2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results.values()) == [False, True]
    winner = next(n for n, won in results.items() if won)
    assert _job(job_id).worker == winner


def test_whole_work_loops_never_run_a_job_twice(committing_app):
    ids = [_queue(n=i) for i in range(6)]
    ran: dict[str, int] = {}

    def run(name: str) -> None:
        with committing_app.app_context():
            try:
                ran[name] = jobs.work(worker=name)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(n,)) for n in ("w1", "w2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sum(ran.values()) == 6
    db.session.expire_all()
    done = db.session.scalars(sa.select(Job).where(Job.id.in_(ids))).all()
    assert {j.status for j in done} == {"done"} and all(j.attempts == 1 for j in done)


def test_a_job_whose_worker_died_is_claimed_again_after_the_timeout(committing_app):
    committing_app.config["JOBS_STALE_SECONDS"] = 60
    job_id = _queue()
    assert jobs.try_claim(job_id, "dead")
    assert jobs.try_claim(job_id, "alive") is False  # the heartbeat is fresh
    for attempt in (2, 3):
        # the worker stopped reporting progress two minutes ago
        db.session.execute(
            sa.update(Job)
            .where(Job.id == job_id)
            .values(heartbeat_at=utcnow() - dt.timedelta(minutes=2))
        )
        db.session.commit()
        assert jobs.try_claim(job_id, f"alive-{attempt}") is True
        assert _job(job_id).attempts == attempt
    db.session.execute(
        sa.update(Job)
        .where(Job.id == job_id)
        .values(heartbeat_at=utcnow() - dt.timedelta(minutes=2))
    )
    db.session.commit()
    assert jobs.try_claim(job_id, "fourth") is False  # three workers died on it: give up
    assert jobs.fail_abandoned() == 1
    job = _job(job_id)
    assert job.status == "failed" and "stopped responding" in job.error


def test_progress_is_committed_and_the_file_kept(committing_app):
    job_id = _queue(n=7)
    assert jobs.work(worker="w") == 1
    job = _job(job_id)
    assert (job.status, job.progress, job.result_name) == ("done", 100, "回声.json")
    path = jobs.result_file(job)
    assert path is not None and path.is_file()
    assert Path(committing_app.instance_path) in path.parents
    body = json.loads(path.read_text())
    assert body["params"] == {"n": 7} and body["seen"] == [50, "half way"]
    assert job.result_size == path.stat().st_size
    assert job.started_at <= job.finished_at


def test_a_failing_job_fails_with_its_message_and_the_worker_goes_on(committing_app):
    bad = _queue("test.boom")
    good = _queue(n=2)
    assert jobs.work(worker="w") == 2
    assert _job(bad).status == "failed" and "printer caught fire" in _job(bad).error
    assert _job(good).status == "done"
    assert jobs.result_file(_job(bad)) is None


def test_queueing_the_same_job_twice_gives_the_same_row(app):
    a = jobs.queue_job("test.echo", {"x": 1})
    b = jobs.queue_job("test.echo", {"x": 1})
    c = jobs.queue_job("test.echo", {"x": 2})
    assert a.id == b.id != c.id
    with pytest.raises(ValueError):
        jobs.queue_job("no.such.kind", {})


def test_the_process_pool_runs_a_job_in_another_process(committing_app):
    """The embedded default: a spawned process builds its own app from the settings and
    claims the job through the database (nothing shared in memory)."""
    from ledger import services as svc

    community = Community(name="池", slug="pool")
    db.session.add(community)
    db.session.flush()
    org = Organisation(
        community_id=community.id,
        name="池企业",
        slug="pool-co",
        kind="enterprise",
        standard="SME_2011",
    )
    db.session.add(org)
    db.session.flush()
    svc.create_book(org)
    user = User(username="pooler", display_name="p", password_hash="x")
    db.session.add(user)
    db.session.commit()
    job_id = jobs.queue_job(
        "ledger.report_export",
        {
            "org_id": org.id,
            "report": "trial-balance",
            "args": {"start": "2026-03-01", "end": "2026-03-31"},
            "fmt": "xlsx",
            "lang": "zh",
            "dates": ["2026-03-01", "2026-03-31"],
        },
        organisation=org,
        user=user,
    ).id
    db.session.commit()
    committing_app.config["JOBS_EXECUTOR"] = "pool"
    try:
        future = jobs.dispatch(committing_app, job_id)
        assert future is not None
        assert future.result(timeout=180) == 1
    finally:
        committing_app.extensions.pop("commons_jobs_pool").shutdown()
    done = _job(job_id)
    assert done.status == "done", done.error
    assert done.worker and done.worker.split("-")[-2].isdigit()
    path = jobs.result_file(done)
    assert path is not None and path.read_bytes()[:2] == b"PK"  # a zip: the XLSX


def test_cli_works_the_queue_and_prunes_old_files(committing_app):
    runner = committing_app.test_cli_runner()
    job_id = _queue(n=3)
    result = runner.invoke(args=["jobs", "work"])
    assert result.exit_code == 0 and "ran 1 job(s)" in result.output
    job = _job(job_id)
    path = jobs.result_file(job)
    assert path is not None
    db.session.execute(
        sa.update(Job).where(Job.id == job_id).values(finished_at=utcnow() - dt.timedelta(days=9))
    )
    db.session.commit()
    result = runner.invoke(args=["jobs", "prune", "--days", "7"])
    assert result.exit_code == 0 and "pruned 1 file(s)" in result.output
    assert not path.exists() and jobs.result_file(_job(job_id)) is None
    assert _job(job_id).status == "done"  # the record of who asked for what stays
