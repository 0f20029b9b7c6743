"""What a hostile review of the first round found, each as a class: a back-dated recording that screens against
another day, a recalled lot received again, a manager certifying themself, ids and text a database cannot take, reads
of client data without an audit row, a model form sent twice, and reasons made of invisible characters."""

import io
from datetime import UTC, datetime, timedelta

import pytest

from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, Certification, Client, StockLot, Treatment

KEY = "testmod"
HUGE = "9223372036854775808"


def _actions(action):
    db.session.expire_all()
    return db.session.execute(db.select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


@pytest.mark.parametrize("days_back, recorded", [(60, False), (4, False), (1, True)])
def test_a_recording_cannot_be_back_dated_to_screen_against_another_day(core, login, days_back, recorded):
    """A pregnancy on record since 10 days ago blocks; "performed 60 days ago" must not make it screen clear."""
    core.lot(core.supply, "L1", 10)
    client = core.client(history=[("pregnancy", 2)], consents=[KEY])
    treatment = core.booked(client, KEY)
    assert treatment.screening_status == "blocked"
    when = (datetime.now(UTC) - timedelta(days=days_back)).strftime("%Y-%m-%dT%H:%M")
    response = login("practitioner").post(
        f"/admin/desk/{treatment.id}/record",
        data={
            "performed_at": when,
            "details-product": str(core.supply.id),
            "details-amount": "1",
            "notes": "",
            "acknowledgement_note": "",
        },
    )
    page = response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Treatment, treatment.id).status == "booked"
    if not recorded:
        assert "Sessions are recorded within 3 day(s)" in page
    else:
        assert "Pregnant: not allowed." in page  # within the window it is screened, and blocked


def test_a_recalled_lot_received_again_is_on_hold_too(core, login):
    core.lot(core.supply, "R1", 5)
    login("manager").post(
        "/admin/recall/hold?lot=R1", data={"product_id": core.supply.id, "reason": "Supplier recall notice 17"}
    )
    from clinicadmin.models import Location
    from clinicadmin.stock import receive

    annex = Location(name="Annex")
    db.session.add(annex)
    db.session.commit()
    elsewhere = receive(
        product=core.supply,
        location=annex,
        lot_number="R1",
        expires_on=core.today + timedelta(days=365),
        packs=2,
        user=core.staff["stock_clerk"],
    )
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(StockLot, elsewhere.id).hold_reason == "Supplier recall notice 17"


def test_nobody_certifies_themself(core, login, staff):
    from clinicadmin.models import Role

    manager = staff["manager"]
    manager.roles.append(db.session.execute(db.select(Role).where(Role.name == "practitioner")).scalar_one())
    db.session.commit()
    before = db.session.execute(db.select(db.func.count()).select_from(Certification)).scalar()
    page = (
        login("manager")
        .post("/admin/certification/new/", data={"user": str(manager.id), "scope": KEY, "licence_number": "SELF-1"})
        .get_data(as_text=True)
    )
    assert "Your own certifications are recorded by another manager." in page
    assert db.session.execute(db.select(db.func.count()).select_from(Certification)).scalar() == before


@pytest.mark.parametrize(
    "url",
    [
        f"/admin/desk/{HUGE}",
        f"/admin/lot/{HUGE}",
        f"/admin/stocktake/{HUGE}",
        f"/admin/client/details/?id={HUGE}",
        f"/admin/client/edit/?id={HUGE}",
        f"/admin/client/?page={HUGE}",
        f"/admin/desk/book?client_id={HUGE}",
        f"/admin/consent/new/?client_id={HUGE}",
        f"/admin/client-merge/?keep={HUGE}&merge=1",
        f"/admin/client-merge/candidates/{HUGE}",
        "/admin/client-merge/?keep=%C2%B2&merge=1",
    ],
)
def test_ids_out_of_any_range_are_refused_not_a_500(core, login, url):
    assert login("manager").get(url).status_code in (302, 400, 404)


def test_a_huge_id_in_a_post_is_refused_and_changes_nothing(core, login):
    treatment = core.booked(core.client(history=[("pregnancy", 30)], consents=[KEY]), KEY)
    response = login("manager").post(
        f"/admin/desk/{treatment.id}/override", data={"finding_id": HUGE, "reason": "Written clearance on file"}
    )
    assert response.status_code in (400, 404)


def test_a_lone_surrogate_in_a_json_login_and_a_file_for_a_text_field_are_refused(core, login, app):
    http = app.test_client()
    with app.app_context():
        page = http.get("/login").get_data(as_text=True)
    from clinicadmin.testing import CSRF_RE

    match = CSRF_RE.search(page)
    token = match.group(1) or match.group(2)
    with app.app_context():
        answer = http.post(
            "/login",
            data='{"email": "\\udc80@example.com", "password": "x"}',
            content_type="application/json",
            headers={"X-CSRFToken": token},
        )
    assert answer.status_code in (400, 401, 429)
    manager = login("manager")
    sent = manager.post(
        "/admin/client/new/",
        data={"first_name": (io.BytesIO(b"Ada"), "name.txt"), "last_name": "Lovelace"},
        content_type="multipart/form-data",
    )
    assert sent.status_code in (200, 400)
    assert db.session.execute(db.select(db.func.count()).select_from(Client)).scalar() == 0


def test_pages_that_show_a_client_are_audited_reads(core, login):
    client = core.client(first="Ada", last="Lovelace", consents=[KEY])
    client.phone = "07700 900123"
    db.session.commit()
    treatment = core.booked(client, KEY)
    desk = login("front_desk")
    desk.get(f"/admin/desk/book?client_id={client.id}")
    assert [e.detail.get("form") for e in _actions("client.view")] == ["book"]
    desk.post("/admin/client_desk/new/", data={"first_name": "X", "last_name": "Y", "phone": "+44 7700 900123"})
    assert _actions("client.duplicate_check")[0].detail["found"] == [client.id]
    login("manager").get(f"/admin/consent/new/?client_id={client.id}")
    login("practitioner").get(f"/admin/desk/{treatment.id}/record")
    assert {e.detail.get("form") for e in _actions("client.view")} == {"book", "consent"}
    assert [e.detail.get("form") for e in _actions("treatment.view")] == ["record"]


def test_a_model_form_sent_twice_creates_one_record(core, login):
    http = login("practitioner")
    form = {"first_name": "Racey", "last_name": "Twinsworth", "date_of_birth": "1990-03-04", "once": "one-token"}
    assert http.post("/admin/client/new/", data=form).status_code == 302
    again = http.post("/admin/client/new/", data={**form, "confirm_new_person": "y"}).get_data(as_text=True)
    assert "already submitted" in again
    assert db.session.execute(db.select(db.func.count()).select_from(Client)).scalar() == 1


def test_reasons_of_invisible_characters_are_refused(core, login):
    core.lot(core.supply, "R1", 5)
    page = (
        login("manager")
        .post(
            "/admin/recall/hold?lot=R1",
            follow_redirects=True,
            data={"product_id": core.supply.id, "reason": "\u200b\u200b\u200b\u200b"},
        )
        .get_data(as_text=True)
    )
    assert "Say why" in page
    db.session.expire_all()
    assert db.session.execute(db.select(StockLot.held_at)).scalar_one() is None
