"""What the how-tos of docs/plugin-hooks.md tell a plugin developer, held through the pages and the demo command: a
warning that only the recorded details raise is acknowledged with the record form's note; a block they raise
refuses the recording and leaves nothing stored to override; a plugin's demo past sessions are recorded once, and a
client whose screening stops one ends with a cancelled booking."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fake_modality import KEY, FakeModality

from clinicadmin.extensions import db
from clinicadmin.models import StockLot, Treatment
from clinicadmin.plugin_api import Finding, hookimpl


class LargeAmount:
    """Finds more than 5 units in the recorded details: nothing at booking, when the details are empty."""

    LABEL = "Large amounts"

    def __init__(self, severity):
        self.severity = severity

    @hookimpl
    def check_contraindications(self, treatment):
        amount = treatment.details.get("amount") if treatment.modality == KEY else None
        if amount is not None and Decimal(amount) > 5:
            return [Finding("large_amounts.over_5", self.severity, "More than 5 units: check the skin first.")]
        return []


def _with(*plugins):
    return {"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", FakeModality()), *plugins]}


def _record_form(product_id, amount, note=""):
    return {
        "performed_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        "details-product": str(product_id),
        "details-amount": amount,
        "notes": "",
        "acknowledgement_note": note,
    }


def _state(treatment):
    db.session.expire_all()
    found = db.session.get(Treatment, treatment.id)
    lots = db.session.execute(db.select(StockLot.quantity)).scalars().all()
    codes = [
        (f.code, f.stage, f.acknowledgement_note)
        for f in found.current_findings()
        if f.code.startswith("large_amounts.")
    ]
    return found.status, lots, codes


@pytest.mark.parametrize("app_config", [_with(("large_amounts", LargeAmount("warn")))])
def test_a_warning_found_only_at_recording_is_acknowledged_with_the_record_forms_note(core, login):
    core.lot(core.supply, "L1", 10)
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    assert treatment.screening_status == "clear"
    http = login("practitioner")
    refused = http.post(f"/admin/desk/{treatment.id}/record", data=_record_form(core.supply.id, "6"))
    assert refused.status_code == 200
    assert "Warning to acknowledge (Large amounts): More than 5 units: check the skin first." in refused.get_data(
        as_text=True
    )
    assert _state(treatment) == ("booked", [10], [])
    done = http.post(
        f"/admin/desk/{treatment.id}/record", data=_record_form(core.supply.id, "6", note="Skin checked: intact")
    )
    assert done.status_code == 302
    assert _state(treatment) == ("performed", [4], [("large_amounts.over_5", "recording", "Skin checked: intact")])


@pytest.mark.parametrize("app_config", [_with(("large_amounts", LargeAmount("block")))])
def test_a_block_found_only_at_recording_refuses_it_and_stores_nothing_to_override(core, login):
    core.lot(core.supply, "L1", 10)
    treatment = core.booked(core.client(consents=[KEY]), KEY)
    http = login("manager")
    refused = http.post(
        f"/admin/desk/{treatment.id}/record", data=_record_form(core.supply.id, "6", note="Accepting it")
    )
    assert "Blocked (Large amounts): More than 5 units: check the skin first." in refused.get_data(as_text=True)
    assert _state(treatment) == ("booked", [10], [])
    assert http.post(f"/admin/desk/{treatment.id}/record", data=_record_form(core.supply.id, "5")).status_code == 302
    assert _state(treatment) == ("performed", [5], [])


class DemoSessions:
    """The how-to's demo: a product, a lot, and past sessions guarded by ``has_treatments``."""

    @hookimpl
    def demo_data(self, demo):
        product = demo.product("HOWTO-1", "How-to product", "consumable", "unit", 10)
        demo.lot(product, "H-1", 365, 5)
        if demo.has_treatments(KEY):
            return
        # clients[3] has diabetes on record, which the fake modality warns about: the demo cannot acknowledge it.
        for days_ago, client in ((3, demo.clients[12]), (8, demo.clients[13]), (5, demo.clients[3])):
            demo.past_session(client, KEY, {"product": product.id, "amount": "2"}, days_ago=days_ago)


@pytest.mark.parametrize("app_config", [_with(("demo_sessions", DemoSessions()))])
def test_demo_past_sessions_are_recorded_once_and_a_stopped_one_is_cancelled(app):
    from clinicadmin.demo import load_demo

    load_demo()
    load_demo()
    past = db.session.execute(
        db.select(Treatment.status, Treatment.cancel_reason)
        .where(Treatment.modality == KEY, Treatment.scheduled_at < datetime.now(UTC))
        .order_by(Treatment.id)
    ).all()
    assert past == [("performed", None), ("performed", None), ("cancelled", "screening stopped it")]
    lot = db.session.execute(db.select(StockLot).where(StockLot.lot_number == "H-1")).scalar_one()
    assert lot.quantity == 50 - 2 * 2


class LateDemo:
    """A plugin installed after the demo clinic was made: its sessions need the consents the core gives on the next
    ``demo-data``, and a lapsed certification it asks for."""

    active = False

    @hookimpl
    def demo_data(self, demo):
        if not self.active:
            return
        product = demo.product("LATE-1", "Late product", "consumable", "unit", 10)
        demo.lot(product, "L-1", 365, 5)
        lapsed = demo.certification(demo.practitioners[1], "late_scope", valid_for_days=-5)
        assert demo.certification(demo.practitioners[1], "late_scope") is lapsed  # looked up, not added twice
        # active for one run only, so no has_treatments guard (the first run booked the fake modality's week ahead)
        demo.past_session(demo.clients[12], KEY, {"product": product.id, "amount": "1"}, days_ago=4)


@pytest.mark.parametrize("app_config", [_with(("late", LateDemo()))])
def test_a_plugin_installed_after_the_demo_clinic_gets_consents_and_its_sessions_record(app):
    from clinicadmin.demo import load_demo
    from clinicadmin.models import Certification, Client, Consent
    from clinicadmin.plugins import registry

    late = registry().pm.get_plugin("late")
    late.active = False  # one object serves both databases' runs
    load_demo()
    # The demo clinic as it was before the plugin came: no consent to its modality anywhere.
    db.session.execute(db.delete(Consent).where(Consent.modality == KEY))
    db.session.commit()
    before = set(db.session.execute(db.select(Treatment.id)).scalars())
    late.active = True
    load_demo()
    clients = db.session.execute(db.select(db.func.count(Client.id))).scalar()
    consents = db.session.execute(db.select(db.func.count(Consent.id)).where(Consent.modality == KEY)).scalar()
    assert consents == clients == 30
    added = db.session.execute(db.select(Treatment.status).where(Treatment.id.not_in(before))).scalars().all()
    assert added == ["performed"]
    lapsed = db.session.execute(db.select(Certification).where(Certification.scope == "late_scope")).scalar_one()
    assert lapsed.valid_until < datetime.now(UTC).date() - timedelta(days=3)
