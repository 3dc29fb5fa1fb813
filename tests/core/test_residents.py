import sqlalchemy as sa

from core.crypto import mask_id_number, mask_name, mask_phone
from core.db import db
from core.models import ResidentConsent


def test_phone_and_id_number_are_encrypted_at_rest(resident):
    db.session.flush()
    raw = db.session.execute(
        sa.text("SELECT phone, id_number FROM residents WHERE id = :id"), {"id": resident.id}
    ).one()
    assert resident.phone not in raw.phone and resident.id_number not in raw.id_number
    db.session.expire(resident)
    assert resident.phone.startswith("139")  # decrypts on read


def test_masking_rules():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_id_number("51010719800101123X") == "**************123X"
    assert mask_name("张秀英") == "张**"
    assert mask_name("李") == "李*"


def test_consent_grant_and_withdrawal_are_history(resident):
    assert not resident.has_consent("publish_name")
    for action in ("grant", "withdraw"):
        db.session.add(
            ResidentConsent(
                community_id=resident.community_id,
                resident_id=resident.id,
                kind="publish_name",
                action=action,
                scope="捐赠鸣谢",
            )
        )
        db.session.flush()
        db.session.refresh(resident)
        assert resident.has_consent("publish_name") == (action == "grant")
    assert len(resident.consents) == 2


def test_demo_load_is_idempotent_and_prints_logins(runner):
    r = runner.invoke(args=["demo", "load"])
    assert r.exit_code == 0, r.output
    assert "preparer" in r.output and "demo-pass-2026" in r.output
    r2 = runner.invoke(args=["demo", "load"])
    assert "already loaded" in r2.output
