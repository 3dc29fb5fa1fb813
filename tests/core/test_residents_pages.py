import sqlalchemy as sa

from core.db import db
from core.models import Resident


def test_staff_adds_a_resident_and_sees_only_masked_numbers(client_as, organisation):
    c = client_as("preparer")
    url = f"/communities/{organisation.community_id}/residents"
    r = c.post(
        url,
        data={
            "csrf_token": c.csrf,
            "name": "周桂芳",
            "phone": "13912345678",
            "id_number": "510107196001011234",
            "unit": "5栋1单元202",
        },
    )
    assert r.status_code == 302
    page = c.get(url).get_data(as_text=True)
    assert "周桂芳" in page and "139****5678" in page and "**************1234" in page
    assert "13912345678" not in page and "510107196001011234" not in page


def test_bad_resident_input_is_422_and_stores_nothing(client_as, organisation):
    c = client_as("preparer")
    url = f"/communities/{organisation.community_id}/residents"
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Resident))
    r = c.post(url, data={"csrf_token": c.csrf, "name": "王", "phone": "12345"})
    assert r.status_code == 422 and "11" in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Resident)) == before


def test_consent_toggle_and_access_control(client_as, organisation, resident_factory):
    resident = resident_factory(community=organisation.community)
    c = client_as("admin")
    url = f"/communities/{organisation.community_id}/residents/{resident.id}/consent"
    assert (
        c.post(
            url, data={"csrf_token": c.csrf, "kind": "publish_name", "action": "grant"}
        ).status_code
        == 302
    )
    db.session.refresh(resident)
    assert resident.has_consent("publish_name")
    auditor = client_as("auditor")
    assert auditor.get(f"/communities/{organisation.community_id}/residents").status_code == 403
