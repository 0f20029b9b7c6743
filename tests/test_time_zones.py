"""Time is right everywhere (issue 15, item 1): instants are stored in UTC and read back timezone-aware; times are
entered and shown as the wall clock of the treatment's location; days (waiting periods, intervals, "today", expiry)
are the location's days. Exercised through the booking and record pages, with clinics far from UTC on both sides."""

import html
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fake_modality import KEY, FakeModality
from test_waiting_periods import RULES, WaitingPlugin

from clinicadmin import clock
from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, Client, Location, Treatment
from clinicadmin.stock import available

KIRITIMATI = "Pacific/Kiritimati"  # UTC+14: its morning is the previous day in UTC
LOS_ANGELES = "America/Los_Angeles"  # UTC-8 or -7: its late evening is the next day in UTC


@pytest.fixture
def app_config():
    return {"PLUGINS_ENABLED": [], "EXTRA_PLUGINS": [("fake", FakeModality()), ("waits", WaitingPlugin())]}


def _at(clinic, zone):
    clinic.location.time_zone = zone
    db.session.commit()
    clinic.certify("practitioner", KEY)  # the booking form offers only certified practitioners
    return ZoneInfo(zone)


def _book(http, client, practitioner, location, wall):
    return http.post(
        "/admin/desk/book",
        data={
            "client": str(client.id),
            "modality": KEY,
            "practitioner": str(practitioner.id),
            "location": str(location.id),
            "scheduled_at": wall.strftime("%Y-%m-%dT%H:%M"),
        },
    )


def _latest():
    db.session.expire_all()
    return db.session.execute(db.select(Treatment).order_by(Treatment.id.desc())).scalars().first()


@pytest.mark.parametrize("zone", [KIRITIMATI, LOS_ANGELES])
def test_a_booked_time_is_the_locations_wall_clock_stored_as_utc_and_shown_back(app, clinic, login, zone):
    tz = _at(clinic, zone)
    client = clinic.client(consents=[KEY])
    wall = (datetime.now(tz) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0, tzinfo=None)
    response = _book(login("front_desk"), client, clinic.staff["practitioner"], clinic.location, wall)
    assert response.status_code == 302, response.text
    treatment = _latest()
    assert treatment.scheduled_at.tzinfo is not None and treatment.scheduled_at.utcoffset() == timedelta(0)
    assert treatment.scheduled_at == wall.replace(tzinfo=tz).astimezone(UTC)
    assert treatment.scheduled_at.date() != wall.date() or zone == LOS_ANGELES  # Kiritimati's 09:00 is yesterday UTC
    page = login("front_desk").get(f"/admin/desk/{treatment.id}").text
    assert wall.strftime("%Y-%m-%d %H:%M") in page
    listed = login("front_desk").get("/admin/treatment/").text
    assert wall.strftime("%Y-%m-%d %H:%M") in listed


def test_the_dashboard_lists_today_as_the_location_counts_days(app, clinic, login, staff):
    tz = _at(clinic, KIRITIMATI)
    staff["practitioner"].location = clinic.location
    db.session.commit()
    client = clinic.client(consents=[KEY])
    local_now = datetime.now(tz)
    # Tomorrow at 23:00 local is the day after tomorrow's morning nowhere near UTC's idea of "tomorrow".
    today_wall = local_now.replace(hour=23, minute=0, second=0, microsecond=0)
    later_wall = today_wall + timedelta(days=2)
    for wall in (today_wall, later_wall):
        clinic.booked(client, KEY, when=wall.astimezone(UTC))
    page = login("practitioner").get("/admin/").text
    upcoming = page.split('id="upcoming"')[1].split("</table>")[0]
    assert today_wall.strftime("%a %d %b 23:00") in upcoming
    assert later_wall.strftime("%a %d %b") not in upcoming


def test_a_waiting_period_ends_by_the_locations_date_not_utcs(app, clinic, login):
    """Dermal filler 14 days ago blocks for 14 days: at 23:30 local on the last day of the wait the booking is still
    within it, though in UTC it is already the next day (Los Angeles is behind UTC)."""
    tz = _at(clinic, LOS_ANGELES)
    wait = next(r for r in RULES if r.code == "dermal_filler")
    today = datetime.now(tz).date()
    http = login("practitioner")
    assert (
        http.post(
            "/admin/client/new/",
            data={
                "first_name": "Late",
                "last_name": "Evening",
                "date_of_birth": "1980-01-01",
                "intake_reviewed_on": today.isoformat(),
                "health_entries-0-code": "dermal_filler",
                "health_entries-0-onset": (today - timedelta(days=1)).isoformat(),
            },
        ).status_code
        == 302
    )
    client = db.session.execute(db.select(Client).where(Client.last_name == "Evening")).scalar_one()
    clinic.certify("practitioner", KEY)
    last_day = today - timedelta(days=1) + timedelta(days=wait.days - 1)
    for day, blocked in ((last_day, True), (last_day + timedelta(days=1), False)):
        wall = datetime.combine(day, datetime.min.time()).replace(hour=23, minute=30)
        assert wall.replace(tzinfo=tz).astimezone(UTC).date() == day + timedelta(days=1)  # UTC is a day ahead
        assert _book(http, client, clinic.staff["practitioner"], clinic.location, wall).status_code == 302
        codes = {f.code for f in _latest().current_findings() if f.plugin == "waits"}
        assert ("waits.recent_dermal_filler" in codes) is blocked, (day, codes)


def test_a_time_the_clocks_skip_is_refused_with_a_message(app, clinic, login):
    _at(clinic, "Europe/London")
    client = clinic.client(consents=[KEY])
    year = clock.local_today(clinic.location).year + 1
    last_sunday_of_march = max(date(year, 3, d) for d in range(25, 32) if date(year, 3, d).weekday() == 6)
    skipped = datetime.combine(last_sunday_of_march, datetime.min.time()).replace(hour=1, minute=30)
    before = db.session.execute(db.select(db.func.count()).select_from(Treatment)).scalar()
    response = _book(login("front_desk"), client, clinic.staff["practitioner"], clinic.location, skipped)
    assert response.status_code == 200
    assert "does not exist in Europe/London" in html.unescape(response.text)
    assert db.session.execute(db.select(db.func.count()).select_from(Treatment)).scalar() == before


def test_a_lot_expiring_today_is_usable_until_the_locations_day_ends(app, clinic, monkeypatch):
    tz = _at(clinic, LOS_ANGELES)
    product = clinic.product("EXP-1", pack_size=1)
    local_day = datetime.now(tz).date()
    clinic.lot(product, "LATE", 5, expires_in_days=(local_day - datetime.now(UTC).date()).days)
    lot_expires = local_day
    # 23:30 in Los Angeles on the expiry day: 07:30 UTC the next day, still in date at the location.
    late = datetime.combine(lot_expires, datetime.min.time()).replace(hour=23, minute=30, tzinfo=tz).astimezone(UTC)
    monkeypatch.setattr(clock, "now", lambda: late)
    assert available(product.id, clinic.location.id) == 5
    monkeypatch.setattr(clock, "now", lambda: late + timedelta(hours=1))  # 00:30 the next local day
    assert available(product.id, clinic.location.id) == 0


def test_the_clinic_time_zone_is_a_setting_checked_by_name(app, login):
    http = login("manager")
    response = http.post("/admin/settings/", data={clock.TIME_ZONE: "Mars/Olympus_Mons"})
    assert "is not a time zone" in html.unescape(response.text)
    assert clock.TIME_ZONE not in {k for (k,) in db.session.execute(db.text("SELECT key FROM setting")).all()}
    response = http.post("/admin/settings/", data={clock.TIME_ZONE: "Australia/Sydney"}, follow_redirects=True)
    assert response.status_code == 200
    with app.test_request_context():
        assert clock.clinic_zone() == ZoneInfo("Australia/Sydney")


def test_a_location_time_zone_is_chosen_from_iana_names(app, login):
    http = login("manager")
    refused = http.post("/admin/location/new/", data={"name": "Moon Base", "time_zone": "Moon/Crater"})
    assert refused.status_code == 200
    assert db.session.execute(db.select(Location).where(Location.name == "Moon Base")).scalar() is None
    assert (
        http.post("/admin/location/new/", data={"name": "Harbour", "time_zone": "Pacific/Auckland"}).status_code == 302
    )
    assert (
        db.session.execute(db.select(Location.time_zone).where(Location.name == "Harbour")).scalar()
        == "Pacific/Auckland"
    )


def test_every_stored_instant_reads_back_aware_in_utc(app, clinic):
    client = clinic.client(consents=[KEY])
    treatment = clinic.booked(client, KEY)
    db.session.expire_all()
    stored = db.session.get(Treatment, treatment.id)
    event = db.session.execute(db.select(AuditEvent).order_by(AuditEvent.id.desc())).scalars().first()
    for instant in (
        stored.scheduled_at,
        stored.created_at,
        stored.findings[0].screened_at if stored.findings else stored.created_at,
        event.at,
        client.created_at,
    ):
        assert instant.tzinfo is not None and instant.utcoffset() == timedelta(0)
    with pytest.raises(Exception, match="naive datetime"):
        stored.notes = "x"
        stored.scheduled_at = datetime(2026, 1, 1, 10)  # noqa: DTZ001 - the point of the test
        db.session.flush()
    db.session.rollback()


def test_no_naive_datetime_is_left_in_the_code():
    """``ruff`` with the DTZ rules passes on the core and the shipped plugins."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is installed with the test extras"
    done = subprocess.run(
        [ruff, "check", "--select", "DTZ", "--no-cache", "clinicadmin", "plugins"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"All checks passed", done.stdout)
