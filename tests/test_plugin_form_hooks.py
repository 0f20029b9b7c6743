"""The plugin form hooks (``treatment_form_fields``, ``booking_form_fields``) through the pages that use them: only the
modality's own plugin answers, a failing plugin fails closed without breaking other modalities, stored answers that
no longer parse do not stop a recording, booking questions are answered before a booking is made, and the answers
leave an audit trail."""

import html
from datetime import UTC, datetime, timedelta

import pytest
from fake_modality import KEY, FakeModality
from wtforms import BooleanField, DateField, StringField
from wtforms.validators import Optional

from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, Course, Treatment
from clinicadmin.plugin_api import Modality, hookimpl
from clinicadmin.plugins import PluginError

FLAKY = "flaky"
OTHER = "othermod"


class Asking(FakeModality):
    """The test modality, asking at booking whether the client is pregnant (a checkbox: unticked means "no")."""

    @hookimpl
    def booking_form_fields(self, modality):
        if modality == KEY:
            return {"pregnant": BooleanField("Pregnant now")}


class Flaky:
    """A second modality whose form hooks raise once ``failing`` is set (after start-up), for every modality asked."""

    failing = False

    @hookimpl
    def register_modality(self):
        return Modality(FLAKY, "Flaky modality", consent_text="I agree.")

    @hookimpl
    def booking_form_fields(self, modality):
        if Flaky.failing:
            raise RuntimeError("the form is gone")
        return {"depth": StringField("Depth", validators=[Optional()])} if modality == FLAKY else None

    @hookimpl
    def treatment_form_fields(self, modality):
        if Flaky.failing:
            raise RuntimeError("the form is gone")
        return {"depth": StringField("Depth", validators=[Optional()])} if modality == FLAKY else None


class Other:
    """A second modality with a booking question of its own."""

    @hookimpl
    def register_modality(self):
        return Modality(OTHER, "Other modality", consent_text="I agree.")

    @hookimpl
    def booking_form_fields(self, modality):
        return {"other_question": BooleanField("Other question")} if modality == OTHER else None


def _config(*plugins, owner=None):
    return {"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", owner or FakeModality()), *plugins]}


@pytest.fixture
def flaky():
    Flaky.failing = False
    yield Flaky
    Flaky.failing = False


def _count(model=Treatment):
    db.session.expire_all()
    return db.session.execute(db.select(db.func.count()).select_from(model)).scalar()


def _booking(core, client, modality, hour=11, **extra):
    when = (datetime.now(UTC) + timedelta(days=2)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return {
        "client": str(client.id),
        "modality": modality,
        "practitioner": str(core.staff["practitioner"].id),
        "location": str(core.location.id),
        "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
        **extra,
    }


def _text(response):
    return html.unescape(response.get_data(as_text=True))


def _events(action):
    db.session.expire_all()
    return db.session.execute(db.select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


@pytest.mark.parametrize("app_config", [_config(("flaky", Flaky()))])
def test_a_form_hook_that_raises_fails_closed_naming_its_plugin_and_other_modalities_still_work(core, login, flaky):
    core.certify("practitioner", FLAKY)
    client = core.client(consents=[KEY, FLAKY])
    booked = core.booked(client, FLAKY, details={"depth": "3 mm"})
    desk, practitioner = login("front_desk"), login("practitioner")
    core.lot(core.supply, "L", 5)
    performed = core.booked(client, FLAKY, details={"depth": "2 mm"})
    assert practitioner.record(performed, {"depth": "2 mm"}).status_code == 302
    Flaky.failing = True

    # The booking page of the failing plugin's modality says so, naming it, and books nothing.
    page = desk.get(f"/admin/desk/book?modality={FLAKY}")
    assert page.status_code == 200 and "The plugin 'flaky' could not give its form" in _text(page)
    before = _count()
    refused = desk.post("/admin/desk/book", data=_booking(core, client, FLAKY, **{"details-depth": "1 mm"}))
    assert refused.status_code == 200 and "The plugin 'flaky' could not give its form" in _text(refused)
    assert _count() == before

    # Another modality is not affected by the failing plugin.
    assert desk.get(f"/admin/desk/book?modality={KEY}").status_code == 200
    assert desk.post("/admin/desk/book", data=_booking(core, client, KEY)).status_code == 302
    assert _count() == before + 1

    # The record page refuses, naming the plugin; nothing is recorded.
    form = practitioner.get(f"/admin/desk/{booked.id}/record", follow_redirects=True)
    assert form.status_code == 200 and "The plugin 'flaky' could not give its form" in _text(form)
    assert practitioner.record(booked, {"depth": "4 mm"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Treatment, booked.id).status == "booked"

    # The treatment's page and the printed history still show the stored details, by key.
    shown = practitioner.get(f"/admin/desk/{booked.id}")
    assert shown.status_code == 200 and "3 mm" in _text(shown)
    history = practitioner.get(f"/admin/client-history/?id={client.id}")
    assert history.status_code == 200 and "2 mm" in _text(history)


@pytest.mark.parametrize("hook", ["treatment_form_fields", "booking_form_fields"])
def test_a_plugin_answering_for_a_modality_it_does_not_own_stops_start_up_naming_it(app_factory, hook):
    class Hijacking:
        pass

    def answer(self, modality):
        return {"amount": StringField("Hijacked amount")} if modality == KEY else None

    answer.__name__ = hook
    setattr(Hijacking, hook, hookimpl(answer))
    with pytest.raises(PluginError, match=rf"plugin 'hijacker': {hook}\('{KEY}'\) answers for a modality"):
        app_factory(**_config(("hijacker", Hijacking())))


class LateHijacker:
    """Answers for the test modality only after start-up (so start-up cannot see it)."""

    active = False

    @hookimpl
    def treatment_form_fields(self, modality):
        return {"amount": StringField("Hijacked amount")} if LateHijacker.active and modality == KEY else None


# Loaded before the owner, so that its answer would be merged last.
@pytest.mark.parametrize(
    "app_config", [{"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("late", LateHijacker()), ("fake", FakeModality())]}]
)
def test_only_the_owning_plugins_fields_are_used(core, login):
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    LateHijacker.active = True
    try:
        page = _text(login("practitioner").get(f"/admin/desk/{treatment.id}/record"))
    finally:
        LateHijacker.active = False
    assert "Hijacked amount" not in page and 'name="details-amount"' in page and 'name="details-product"' in page


@pytest.mark.parametrize("name", ["process", "data", "_private", "not-a-name"])
def test_a_field_name_the_form_uses_itself_or_not_an_identifier_stops_start_up(app_factory, name):
    class Clashing(FakeModality):
        @hookimpl
        def booking_form_fields(self, modality):
            return {name: StringField("Clash")} if modality == KEY else None

    with pytest.raises(PluginError, match=rf"plugin 'fake': booking_form_fields\('{KEY}'\) names a field '{name}'"):
        app_factory(**_config(owner=Clashing()))


class Changed(FakeModality):
    """The test modality after an upgrade: ``amount`` is still a number, and a date is asked at booking."""

    @hookimpl
    def booking_form_fields(self, modality):
        if modality == KEY:
            return {"last_peel": DateField("Last peel", validators=[Optional()])}


@pytest.mark.parametrize("app_config", [_config(owner=Changed())])
def test_a_stored_answer_that_no_longer_parses_leaves_the_field_empty_and_the_booking_recordable(core, login):
    # Stored before the upgrade, when both were free text.
    treatment = core.booked(core.client(consents=[KEY]), KEY, details={"amount": "a little", "last_peel": "in May"})
    practitioner = login("practitioner")
    page = practitioner.get(f"/admin/desk/{treatment.id}/record")
    assert page.status_code == 200
    text = _text(page)
    assert 'The stored answer "a little" could not be read; enter it again.' in text
    assert 'The stored answer "in May" could not be read; enter it again.' in text
    core.lot(core.supply, "L", 5)
    # The form shows the unreadable date empty, so the browser posts it empty (the helper would post it as stored).
    details = {"product": core.supply.id, "amount": "1", "last_peel": ""}
    assert practitioner.record(treatment, details).status_code == 302
    db.session.expire_all()
    recorded = db.session.get(Treatment, treatment.id)
    assert recorded.status == "performed" and recorded.details["amount"] == "1"


@pytest.mark.parametrize("app_config", [_config(("other", Other()), owner=Asking())])
def test_a_booking_is_not_made_with_questions_the_desk_never_saw(core, login):
    client = core.client(consents=[KEY, OTHER])
    desk = login("front_desk")
    # The modality chosen in the select and "Book and screen" pressed without the page showing its questions.
    for marker in ({}, {"questions_for": ""}, {"questions_for": OTHER}):
        page = desk.post("/admin/desk/book", data=_booking(core, client, KEY, **marker))
        assert page.status_code == 200 and _count() == 0
        text = _text(page)
        assert "Answer the questions for Test modality before booking." in text
        assert (
            'name="details-pregnant"' in text
            and f'id="questions_for" name="questions_for" type="hidden" value="{KEY}"' in text
        )
    # Now shown: answered (here: not ticked), it is booked.
    assert desk.post("/admin/desk/book", data=_booking(core, client, KEY, questions_for=KEY)).status_code == 302
    assert _count() == 1
    assert db.session.execute(db.select(Treatment)).scalar_one().details == {"pregnant": False}


@pytest.mark.parametrize("app_config", [_config(("other", Other()), owner=Asking())])
def test_a_course_shows_its_own_modalitys_questions(core, login):
    client = core.client(consents=[KEY, OTHER])
    course = Course(client=client, modality=KEY, planned_sessions=3)
    db.session.add(course)
    db.session.commit()
    page = _text(
        login("front_desk").get(f"/admin/desk/book?modality={OTHER}&course_id={course.id}&client_id={client.id}")
    )
    assert 'name="details-pregnant"' in page and 'name="details-other_question"' not in page
    assert f'<option selected value="{KEY}">' in page
    assert f'name="questions_for" type="hidden" value="{KEY}"' in page


@pytest.mark.parametrize("app_config", [_config(owner=Asking())])
def test_booking_answers_are_audited_and_a_change_at_recording_shows_before_and_after(core, login):
    client = core.client(consents=[KEY])
    desk = login("front_desk")
    booked = desk.post("/admin/desk/book", data=_booking(core, client, KEY, questions_for=KEY))
    assert booked.status_code == 302
    [event] = _events("treatment.book")
    assert event.detail["details"] == {"pregnant": False}
    treatment = db.session.get(Treatment, int(event.object_id))
    core.lot(core.supply, "L", 5)
    practitioner = login("practitioner")
    assert (
        practitioner.record(treatment, {"product": core.supply.id, "amount": "1", "pregnant": "y"}).status_code == 302
    )
    [recorded] = _events("treatment.record")
    assert recorded.detail["booking_answers_changed"] == {"pregnant": {"before": False, "after": True}}


class AskingDemo(Asking):
    """The asking modality, whose demo data books a session with its booking answers."""

    @hookimpl
    def demo_data(self, demo):
        demo.booking(demo.clients[0], KEY, demo.at(-3, 11), details={"pregnant": True})


@pytest.mark.parametrize("app_config", [_config(owner=AskingDemo())])
def test_a_demo_booking_carries_its_booking_answers(app):
    from clinicadmin.demo import load_demo

    load_demo()
    db.session.expire_all()
    answers = db.session.execute(db.select(Treatment.details).where(Treatment.modality == KEY)).scalars().all()
    assert {"pregnant": True} in answers
