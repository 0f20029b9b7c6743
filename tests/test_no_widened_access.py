"""Nobody widens their own access: authorisation reads the acting user's roles as stored, never the record a form
fills in; scope of practice and a check that could not run are hard stops no role overrides; recording checks the
certification of whoever performs the treatment."""

import threading
from datetime import UTC, datetime

import pytest
from fake_modality import FakeModality

from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, Role, ScreeningFinding, StockMovement, Treatment, User
from clinicadmin.plugin_api import Finding, hookimpl
from clinicadmin.testing import TEST_PASSWORD, StaffClient

KEY = "testmod"


def _role_ids(*names):
    return [str(db.session.execute(db.select(Role.id).where(Role.name == n)).scalar_one()) for n in names]


def _roles_of(user_id):
    db.session.expire_all()
    return db.session.get(User, user_id).role_names


def _staff_form(user, roles, active=True, new_password=""):
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "roles": _role_ids(*roles),
        "location": str(user.location_id or ""),
        "new_password": new_password,
    }
    if active:
        data["active"] = "y"
    return data


def _edit_staff(http, user, roles, **kwargs):
    return http.post(f"/admin/staff/edit/?id={user.id}", data=_staff_form(user, roles, **kwargs), follow_redirects=True)


def test_a_manager_cannot_make_themself_admin_or_change_their_own_roles(core, login):
    manager = core.staff["manager"]
    http = login("manager")
    page = _edit_staff(http, manager, ["manager", "admin"]).get_data(as_text=True)
    assert "cannot change your own roles" in page
    assert _roles_of(manager.id) == {"manager"}
    page = _edit_staff(http, manager, ["manager", "practitioner"]).get_data(as_text=True)
    assert "cannot change your own roles" in page
    assert _roles_of(manager.id) == {"manager"}
    # Nor the admin role for someone else, nor an administrator's account (its password would be theirs to set).
    practitioner = core.staff["practitioner"]
    assert "Only an administrator" in _edit_staff(http, practitioner, ["practitioner", "admin"]).get_data(as_text=True)
    assert _roles_of(practitioner.id) == {"practitioner"}
    admin = core.staff["admin"]
    page = _edit_staff(http, admin, ["admin"], new_password="a manager's takeover attempt 42").get_data(as_text=True)
    assert "Only an administrator" in page
    StaffClient(core.app, admin.email, TEST_PASSWORD)  # the admin's own password still works


def test_role_changes_are_audited_with_before_and_after_and_end_the_persons_sessions(core, login):
    practitioner = core.staff["practitioner"]
    theirs = login("practitioner")
    assert theirs.get("/admin/client/").status_code == 200
    _edit_staff(login("manager"), practitioner, ["practitioner", "front_desk"])
    assert _roles_of(practitioner.id) == {"practitioner", "front_desk"}
    row = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "user.update")).scalars().all()[-1]
    assert row.detail["changes"]["roles"] == [["practitioner"], ["front_desk", "practitioner"]]
    assert theirs.get("/admin/client/").status_code in (302, 401)  # sent to log in again


def test_the_last_active_admin_stays_one_even_when_two_admins_demote_each_other_at_once(core, login):
    from flask_security import hash_password

    first = core.staff["admin"]
    second = core.app.security.datastore.create_user(
        email="admin2@test.example.com",
        full_name="Second admin",
        password=hash_password(TEST_PASSWORD),
        roles=[db.session.execute(db.select(Role).where(Role.name == "admin")).scalar_one()],
    )
    db.session.commit()
    clients = {first.id: login("admin"), second.id: StaffClient(core.app, second.email)}
    targets = {first.id: second, second.id: first}
    forms = {i: {**_staff_form(targets[i], ["manager"]), "csrf_token": http.token()} for i, http in clients.items()}
    start, pages = threading.Barrier(2), {}

    def demote(acting_id):
        start.wait()
        pages[acting_id] = (
            clients[acting_id]
            .post(f"/admin/staff/edit/?id={targets[acting_id].id}", data=forms[acting_id], follow_redirects=True)
            .get_data(as_text=True)
        )

    threads = [threading.Thread(target=demote, args=(i,)) for i in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    db.session.expire_all()
    admins = db.session.execute(db.select(User).join(User.roles).where(Role.name == "admin")).scalars().all()
    assert len(admins) == 1
    assert sum("is the last active administrator" in page for page in pages.values()) == 1


def test_an_admin_cannot_deactivate_themself(core, login):
    admin = core.staff["admin"]
    page = _edit_staff(login("admin"), admin, ["admin"], active=False).get_data(as_text=True)
    assert "cannot deactivate your own account" in page
    db.session.expire_all()
    assert db.session.get(User, admin.id).active


def _record_form(product_id):
    return {
        "performed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        "details-product": str(product_id),
        "details-amount": "1",
        "notes": "",
        "acknowledgement_note": "",
    }


def test_a_missing_or_expired_certification_is_a_hard_stop_no_role_overrides(core, login, staff):
    core.lot(core.supply, "L1", 10)
    uncertified = staff["front_desk"]  # any user: the booking names them as the practitioner
    treatment = core.booked(core.client(consents=[KEY]), KEY, practitioner="front_desk")
    stop = next(f for f in treatment.current_findings() if f.code.startswith("practitioner-not-certified"))
    assert not stop.overridable
    for role in ("manager", "admin"):
        http = login(role)
        page = http.get(f"/admin/desk/{treatment.id}").get_data(as_text=True)
        assert "hard stop" in page and f'name="finding_id" value="{stop.id}"' not in page
        refused = http.post(
            f"/admin/desk/{treatment.id}/override",
            follow_redirects=True,
            data={"finding_id": stop.id, "reason": "We are short-staffed today, fine"},
        )
        assert "no role can override it" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ScreeningFinding, stop.id).overridden_at is None
    # An expired certification is the same.
    core.certify(uncertified, KEY, valid_days=-1)
    screened = login("manager").post(f"/admin/desk/{treatment.id}/screen", follow_redirects=True)
    assert "certification for Test modality is not valid" in screened.get_data(as_text=True)
    assert db.session.get(Treatment, treatment.id).screening_status == "blocked"


def test_an_override_given_before_a_finding_became_a_hard_stop_does_not_carry_over(core, login):
    """Overrides carry to the next screening run by plugin, code and severity; never onto a hard stop."""
    treatment = core.booked(core.client(consents=[KEY]), KEY, practitioner="front_desk")
    stop = next(f for f in treatment.current_findings() if not f.overridable)
    db.session.execute(
        db.update(ScreeningFinding)
        .where(ScreeningFinding.id == stop.id)
        .values(overridden_at=datetime.now(UTC), override_reason="written straight into the database")
    )
    db.session.commit()
    login("manager").post(f"/admin/desk/{treatment.id}/screen")
    db.session.expire_all()
    current = db.session.get(Treatment, treatment.id).current_findings()
    assert [f.overridden_at for f in current if not f.overridable] == [None]


class HardStopPlugin:
    @hookimpl
    def check_contraindications(self, treatment, history, settings):
        return [
            Finding("hardstop.absolute", "block", "An absolute contraindication.", overridable=False),
            Finding("hardstop.relative", "block", "A relative contraindication."),
        ]


class BrokenCheckPlugin:
    @hookimpl
    def check_contraindications(self, treatment, history, settings):
        raise RuntimeError("lost its rule table")


@pytest.mark.parametrize(
    "plugin, code, overridable",
    [
        (HardStopPlugin(), "hardstop.absolute", False),
        (HardStopPlugin(), "hardstop.relative", True),
        (BrokenCheckPlugin(), "screening-failed", False),
    ],
)
def test_a_plugin_declares_hard_stops_and_a_check_that_cannot_run_is_one(app_factory, plugin, code, overridable):
    from clinicadmin.testing import ROLES, Clinic

    app = app_factory(PLUGINS_ENABLED=[], EXTRA_PLUGINS=[("fake", FakeModality()), ("extra", plugin)])
    with app.app_context():
        from flask_security import hash_password

        from clinicadmin.demo import _role, ensure_roles
        from clinicadmin.models import Location

        ensure_roles()
        location = Location(name="Test Clinic")
        db.session.add(location)
        staff = {
            role: app.security.datastore.create_user(
                email=f"{role.replace('_', '')}@test.example.com",
                full_name=f"Test {role}",
                password=hash_password(TEST_PASSWORD),
                roles=[_role(role)],
                location=location,
            )
            for role in ROLES
        }
        db.session.commit()
        clinic = Clinic(app, staff)
        clinic.certify("practitioner", KEY)
        treatment = clinic.booked(clinic.client(consents=[KEY]), KEY)
        finding = next(f for f in treatment.current_findings() if f.code == code)
        assert finding.overridable is overridable
        StaffClient(app, staff["manager"].email).post(
            f"/admin/desk/{treatment.id}/override",
            data={"finding_id": finding.id, "reason": "Medical director's written decision"},
        )
        db.session.expire_all()
        assert (db.session.get(ScreeningFinding, finding.id).overridden_at is not None) is overridable


def test_recording_checks_the_certification_of_whoever_performs_it(core, login, staff):
    from flask_security import hash_password

    core.lot(core.supply, "L1", 10)
    colleague = core.app.security.datastore.create_user(
        email="colleague@test.example.com",
        full_name="Uncertified colleague",
        password=hash_password(TEST_PASSWORD),
        roles=[db.session.execute(db.select(Role).where(Role.name == "practitioner")).scalar_one()],
    )
    db.session.commit()
    treatment = core.booked(core.client(consents=[KEY]), KEY)  # with the certified practitioner: clear
    assert treatment.screening_status == "clear"
    refused = StaffClient(core.app, colleague.email).post(
        f"/admin/desk/{treatment.id}/record", data=_record_form(core.supply.id)
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "Uncertified colleague holds no certification for Test modality" in page
    db.session.expire_all()
    kept = db.session.get(Treatment, treatment.id)
    assert (kept.status, kept.practitioner_id) == ("booked", staff["practitioner"].id)
    assert db.session.execute(db.select(db.func.count()).select_from(StockMovement)).scalar() == 1

    # Once certified, the colleague records it, and the record says who performed it and who it was booked with.
    core.certify(colleague, KEY)
    assert (
        StaffClient(core.app, colleague.email)
        .post(f"/admin/desk/{treatment.id}/record", data=_record_form(core.supply.id))
        .status_code
        == 302
    )
    db.session.expire_all()
    done = db.session.get(Treatment, treatment.id)
    assert (done.status, done.practitioner_id, done.recorded_by_id) == ("performed", colleague.id, colleague.id)
    row = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "treatment.record")).scalar_one()
    assert (row.detail["booked_with"], row.detail["performed_by"]) == ("Test practitioner", "Uncertified colleague")


def test_a_manager_recording_for_the_practitioner_checks_the_practitioners_certification(core, login):
    core.lot(core.supply, "L1", 10)
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    assert (
        login("manager").post(f"/admin/desk/{treatment.id}/record", data=_record_form(core.supply.id)).status_code
        == 302
    )
    db.session.expire_all()
    done = db.session.get(Treatment, treatment.id)
    assert (done.practitioner_id, done.recorded_by_id) == (core.staff["practitioner"].id, core.staff["manager"].id)
