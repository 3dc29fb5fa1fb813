"""The read replica (``COMMONS_REPLICA_URL``, core/db.py) against a real PostgreSQL streaming
replica: a primary and a hot standby made with ``pg_basebackup`` on loopback, in a temporary
directory (as bench/run starts them). Skipped only when the PostgreSQL binaries are absent.

What must hold: a public page reads from the replica when it has replayed everything; a page
never shows a state the replica has not yet received — with replay paused, a report published
on the primary is still shown (the request reads from the primary), and an unreachable replica
is the same; writes and other pages never touch the replica.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from pgserver import PgServer, pg_bindir, wait_replayed  # noqa: E402

pytestmark = pytest.mark.skipif(
    pg_bindir() is None, reason="PostgreSQL binaries (/usr/lib/postgresql/*/bin) are absent"
)


@pytest.fixture(scope="module")
def servers():
    import os
    import shutil
    import subprocess
    import tempfile

    # not under pytest's own temporary folder: the postgres user must reach it
    root = Path(tempfile.mkdtemp(prefix="commons-replica-test-"))
    if os.geteuid() == 0:
        subprocess.run(["chown", "postgres:postgres", str(root)], check=True)
    primary = PgServer(root, "primary").init().start()
    replica = None
    try:
        primary.create_database("commons")
        replica = primary.replica(root, "replica").start()
        yield primary, replica
    finally:
        if replica is not None:
            replica.stop()
        primary.stop()
        shutil.rmtree(root, ignore_errors=True)


def _app(primary: PgServer, replica_url: str | None, instance: Path):
    from core.app import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": primary.url("commons"),
            "REPLICA_URL": replica_url,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "replica-test",
            "FIELD_KEY": Fernet.generate_key().decode(),
            "ARGON2_FAST": True,
            "PUBLIC_PAGE_CACHE_SECONDS": 0,  # what is read from where, not what was kept
        }
    )


@pytest.fixture(scope="module")
def world(servers, tmp_path_factory):
    """Migrated primary with an SME book, a month closed and its report published."""
    import flask_migrate

    from core.auth import create_user, grant_role
    from core.db import db
    from core.models import Community, Organisation
    from ledger import services as svc
    from ledger.models import Account
    from transparency.disclosure import publish_report

    primary, replica = servers
    instance = tmp_path_factory.mktemp("instance")
    app = _app(primary, replica.url("commons"), instance)
    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        community = Community(name="副本社区", slug="replica")
        db.session.add(community)
        db.session.flush()
        org = Organisation(
            community_id=community.id,
            name="副本合作社",
            slug="replica-co",
            kind="enterprise",
            standard="SME_2011",
            first_month=202501,
        )
        db.session.add(org)
        db.session.flush()
        book = svc.create_book(org)
        reviewer = create_user("replica-reviewer", "a long replica passphrase")
        grant_role(reviewer, org, "reviewer")
        acc = {
            a.code: a.id
            for a in db.session.scalars(sa.select(Account).where(Account.book_id == book.id))
        }
        svc.post_vouchers(
            book,
            [
                svc.VoucherInput(
                    dt.date(2025, m, 10),
                    f"收到股东出资 {m}",
                    [
                        svc.LineInput(account_id=acc["1002"], debit=1_000_00 * m, credit=0),
                        svc.LineInput(account_id=acc["3001"], debit=0, credit=1_000_00 * m),
                    ],
                )
                for m in (1, 2)
            ],
            source="import",
            actor=None,
        )
        for m in (1, 2):
            svc.close_period(book, 2025, m, actor=reviewer)
        first = publish_report(book, "2025-01", actor=None)
        db.session.commit()
        ids = dict(book=book.id, org=org.id, first=first.id)
        db.session.remove()
    wait_replayed(primary, replica)
    return app, ids, instance


def _replica_statements(app):
    """A list that collects every statement the app's replica engine runs."""
    from core.db import replica_engine

    seen: list[str] = []
    engine = replica_engine(app)
    sa.event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_public_pages_read_from_a_caught_up_replica(world):
    app, ids, _ = world
    seen = _replica_statements(app)
    client = app.test_client()
    r = client.get(f"/public/o/{ids['org']}")
    assert r.status_code == 200
    assert any("organisations" in s for s in seen), "the page did not read from the replica"
    seen.clear()
    r = client.get(f"/public/r/{ids['first']}")
    assert r.status_code == 200 and "2025-01" in r.get_data(as_text=True)
    assert any("disclosure_reports" in s for s in seen)
    # an API read and any write stay on the primary
    seen.clear()
    assert client.get("/api/v1/communities").status_code == 200
    assert not any("communities" in s for s in seen)


def test_a_report_the_replica_has_not_received_is_read_from_the_primary(world, servers):
    from core.db import db
    from ledger import services as svc
    from transparency.disclosure import publish_report

    app, ids, _ = world
    primary, replica = servers
    replica.psql("SELECT pg_wal_replay_pause()", database="commons")
    try:
        with app.app_context():
            book = svc.get_book(ids["book"])
            second = publish_report(book, "2025-02", actor=None)
            db.session.commit()
            second_id = second.id
            db.session.remove()
        # the replica really lacks it
        assert (
            replica.psql(
                f"SELECT count(*) FROM disclosure_reports WHERE id = {second_id}",
                database="commons",
            )
            == "0"
        )
        seen = _replica_statements(app)
        client = app.test_client()
        r = client.get(f"/public/r/{second_id}")
        assert r.status_code == 200, "a published report was answered from a stale replica"
        assert "2025-02" in r.get_data(as_text=True)
        page = client.get(f"/public/o/{ids['org']}").get_data(as_text=True)
        assert f"/public/r/{second_id}" in page, "the organisation page omits the new report"
        assert not any("disclosure_reports" in s for s in seen)
    finally:
        replica.psql("SELECT pg_wal_replay_resume()", database="commons")
    wait_replayed(primary, replica)
    seen.clear()
    r = app.test_client().get(f"/public/r/{second_id}")
    assert r.status_code == 200
    assert any("disclosure_reports" in s for s in seen), "caught up: back on the replica"


def test_an_unreachable_replica_falls_back_to_the_primary(world, servers):
    from pgserver import free_port

    _, ids, instance = world
    primary, _replica = servers
    nowhere = f"postgresql+psycopg://postgres@127.0.0.1:{free_port(56460)}/commons"
    app = _app(primary, nowhere + "?connect_timeout=2", instance)
    r = app.test_client().get(f"/public/r/{ids['first']}")
    assert r.status_code == 200 and "2025-01" in r.get_data(as_text=True)


def test_config_refuses_a_replica_without_postgresql(tmp_path):
    from core.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="COMMONS_REPLICA_URL"):
        load_config(
            str(tmp_path),
            {
                "SQLALCHEMY_DATABASE_URI": "sqlite:///x.sqlite3",
                "REPLICA_URL": "postgresql+psycopg://r/commons",
                "SECRET_KEY": "x",
                "FIELD_KEY": Fernet.generate_key().decode(),
            },
        )
