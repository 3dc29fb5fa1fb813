import sqlalchemy as sa

from core.db import db
from core.models import AuditEvent


def test_home_page_renders_in_chinese_by_default(client):
    resp = client.get("/")
    assert resp.status_code == 200
    assert "社区公账" in resp.get_data(as_text=True)


def test_security_headers(client):
    resp = client.get("/")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_audit_records_cli_command(runner):
    result = runner.invoke(args=["user", "create", "alice", "--password", "longenough1"])
    assert result.exit_code == 0, result.output
    ev = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert ev.action == "cli user create" and ev.outcome == "ok"
