"""The main journeys in a real browser: Playwright driving Debian's Chromium (headless) against the app served on a
local port with the demo clinic and every shipped plugin.

They skip when Chromium (``/usr/bin/chromium``) or Playwright is missing, with the reason, except where
``CLINICADMIN_REQUIRE_BROWSER`` is set (CI), where they fail. Screenshots go to ``CLINICADMIN_SCREENSHOTS`` (default:
the test's temporary folder); the README's come from here. The server runs on SQLite: the journeys test the pages,
and every page's database behaviour is tested on both databases through the test client.
"""

import importlib.util
import os
import re
import shutil
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from shipped_plugins import ALL_SHIPPED

# One browser and one demo clinic serve the whole module: under pytest-xdist its tests share a worker.
pytestmark = pytest.mark.xdist_group("browser")

CHROMIUM = os.environ.get("CLINICADMIN_CHROMIUM", "/usr/bin/chromium")


def _unavailable():
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed (pip install playwright)"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _unavailable()
    if reason:
        if os.environ.get("CLINICADMIN_REQUIRE_BROWSER"):
            pytest.fail(f"browser tests are required here: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    """The app with the demo clinic, served by Werkzeug on a free local port in a thread."""
    from werkzeug.serving import make_server

    from clinicadmin.app import create_app
    from clinicadmin.demo import load_demo
    from clinicadmin.extensions import db
    from clinicadmin.schema import upgrade_all

    instance = tmp_path_factory.mktemp("browser")
    app = create_app(
        {
            "INSTANCE_PATH": str(instance),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/clinic.sqlite",
            "PLUGINS_ENABLED": ALL_SHIPPED,
            "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS": {"argon2__rounds": 1, "argon2__memory_cost": 1024},
        }
    )
    with app.app_context():
        upgrade_all()
        logins = load_demo()
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    shots = Path(os.environ.get("CLINICADMIN_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    yield SimpleNamespace(url=f"http://127.0.0.1:{http.server_port}", logins=logins, app=app, db=db, shots=shots)
    http.shutdown()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def page(browser, server):
    """A fresh browser context; the test fails if a page reports a script error or a Content-Security-Policy
    violation (Chromium logs those as console errors)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    # A refused status (a 403 a test asks for) is reported as "Failed to load resource"; that is not a problem.
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.server = server
    yield page
    context.close()
    assert not problems, problems


def log_in(page, email):
    server = page.server
    page.goto(server.url + "/login")
    page.fill("#email", email)
    page.fill("#password", server.logins[email])
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/**")


def shot(page, name):
    page.screenshot(path=str(page.server.shots / name), full_page=True)


def with_db(server, work):
    with server.app.app_context():
        return work(server.db)


def new_client(server, first, last, conditions=()):
    """A client with consents for every modality and a history reviewed last week, made directly in the database."""
    from clinicadmin.models import Client, Consent, HealthEntry
    from clinicadmin.plugins import registry

    def make(db):
        today = datetime.now(UTC).date()
        client = Client(first_name=first, last_name=last, intake_reviewed_on=today - timedelta(days=7))
        client.health_entries = [HealthEntry(code=code) for code in conditions]
        client.consents = [Consent(modality=key, signed_on=today - timedelta(days=30)) for key in registry().modalities]
        db.session.add(client)
        db.session.commit()
        return client.id

    return with_db(server, make)


def choose(page, widget, typed):
    """Pick the lookup result that starts with ``typed`` in a select2 lookup, once the results for all of it are in
    (an earlier keystroke's results may still be showing), and wait for the list to close."""
    page.click(widget)
    page.keyboard.type(typed)
    page.wait_for_selector(f".select2-result-selectable:has-text('{typed}')")
    page.keyboard.press("Enter")
    page.wait_for_selector("#select2-drop-mask", state="hidden")


def quiet_weekday(weeks=3, later=0):
    """A Monday to Friday some weeks ahead (and ``later`` weekdays after it), past the demo's booked week and its
    practitioners' time off."""
    day = datetime.now(UTC).date() + timedelta(weeks=weeks)
    while day.weekday() > 4 or later:
        if day.weekday() <= 4:
            later -= 1
        day += timedelta(days=1)
    return day


BOOKINGS_MADE = iter(range(100))


def book(page, client_id, modality):
    """Book through the form at 10:00 (room for preparation within the demo's hours) on a quiet day of its own."""
    page.goto(f"{page.server.url}/admin/desk/book?client_id={client_id}")
    page.fill("#scheduled_at", f"{quiet_weekday(later=next(BOOKINGS_MADE)).isoformat()}T10:00")
    page.select_option("#modality", modality)
    # Without a script the form lists who is certified for the modality once asked; the first of them is chosen.
    page.click("button:has-text('Show practitioners certified')")
    page.select_option("#practitioner", index=1)
    page.click("button:has-text('Book and screen')")
    page.wait_for_url("**/admin/desk/*")
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


def test_logging_in_shows_the_dashboard(page):
    log_in(page, "manager@example.com")
    assert page.locator("h1", has_text="Today and tomorrow").is_visible()
    assert page.locator(".dashboard-chart svg.chart").count() == 2
    assert page.locator("#alert-stock").is_visible()  # the demo clinic has low and expiring stock
    shot(page, "dashboard.png")


def test_a_client_is_created_with_a_health_history(page):
    log_in(page, "manager@example.com")
    page.goto(page.server.url + "/admin/client/new/")
    page.fill("#first_name", "Paula")
    page.fill("#last_name", "Browser")
    page.click("text=Add Health History")
    page.select_option("select[name='health_entries-0-code']", "pregnancy")
    page.click("input[type=submit][value='Save']")
    page.wait_for_selector(".alert-success")
    page.goto(page.server.url + "/admin/client/?search=Browser")
    page.click("a[title='View Record']")
    assert "Pregnant" in page.inner_text("table")  # the health history, in the words of the intake form


def test_screening_blocks_a_booking_and_says_why_and_a_manager_overrides_it(page, browser):
    client_id = new_client(page.server, "Olive", "Override", conditions=["pregnancy"])
    log_in(page, "manager@example.com")
    treatment_id = book(page, client_id, "microneedling")
    block = page.locator(".finding-block").first
    assert block.is_visible() and "pregnan" in block.inner_text().lower()
    shot(page, "treatment-screening.png")
    page.locator(".finding-block input[name=reason]").first.fill("Medical director reviewed: postpartum, not pregnant")
    page.locator(".finding-block button[type=submit]").first.click()
    page.wait_for_selector("text=Finding overridden")
    assert f"/admin/desk/{treatment_id}" in page.url


def test_recording_a_treatment_takes_its_stock(page):
    from clinicadmin.models import Product, StockLot

    def oil_on_hand(db):
        return db.session.execute(
            db.select(db.func.sum(StockLot.quantity)).join(Product).where(Product.category == "oil")
        ).scalar()

    client_id = new_client(page.server, "Rita", "Record")
    before = with_db(page.server, oil_on_hand)
    log_in(page, "manager@example.com")
    treatment_id = book(page, client_id, "facial_massage")
    page.click("text=Record as performed")
    page.check("input[name='details-techniques'] >> nth=0")
    page.check("input[name='details-areas'] >> nth=0")
    page.fill("input[name='details-duration_minutes']", "30")
    choose(page, "#s2id_details-product", "Facial massage")  # lookups match the start of a name or SKU
    page.fill("input[name='details-product_ml']", "2")
    page.click("button:has-text('Record treatment')")
    page.wait_for_selector("text=stock was deducted")
    assert with_db(page.server, oil_on_hand) == before - Decimal("2")
    page.goto(f"{page.server.url}/admin/desk/{treatment_id}/aftercare")
    assert page.locator("h1", has_text="Aftercare").is_visible()
    assert "Rita Record" in page.inner_text("article")
    page.emulate_media(media="print")
    assert not page.locator("nav.navbar").is_visible() and not page.locator("#print-button").is_visible()
    page.pdf(path=str(page.server.shots / "aftercare.pdf"))
    assert (page.server.shots / "aftercare.pdf").stat().st_size > 1000


def test_a_report_shows_its_chart(page):
    log_in(page, "manager@example.com")
    page.goto(page.server.url + "/admin/reports/")
    page.click("text=Treatments per modality per month")
    chart = page.locator("figure.report-chart svg.chart")
    assert chart.is_visible() and chart.locator("rect").count() > 0
    assert page.locator("table.report-table tbody tr").count() > 0
    shot(page, "report.png")
    with page.expect_download() as download:
        page.click("text=Download CSV")
    assert download.value.suggested_filename.startswith("treatments-per-modality")


def test_a_stock_clerk_cannot_reach_client_pages(page):
    log_in(page, "stock@example.com")
    assert page.locator("nav >> text=Clients").count() == 0
    response = page.goto(page.server.url + "/admin/client/")
    assert response.status == 403
    response = page.goto(page.server.url + "/admin/desk/ajax/lookup/?name=client&query=a")
    assert response.status == 403


def test_the_front_desk_books_moves_cancels_and_marks_a_no_show_on_the_appointment_book(page):
    """The front desk's day from its home, the appointment book: book from an empty slot, move the booking by
    dragging it, cancel it with who and why; and mark a booking whose time has passed as a no-show."""
    from clinicadmin.models import Location, Treatment, User
    from clinicadmin.treatment_flow import TreatmentRejected
    from clinicadmin.treatment_flow import book as book_flow

    client_id = new_client(page.server, "Cora", "Calendar")
    # A quiet day (the demo books the week ahead), within the practitioners' hours (09:00-13:00, 13:30-19:00).
    day = quiet_weekday(weeks=2).isoformat()
    log_in(page, "frontdesk@example.com")
    page.wait_for_url("**/admin/calendar/**")
    page.goto(f"{page.server.url}/admin/calendar/?day={datetime.now(UTC).date() + timedelta(days=1)}")
    shot(page, "appointment-book.png")  # the demo's week: a busy day
    page.goto(f"{page.server.url}/admin/calendar/?day={day}")
    column = page.locator(".cal-col[aria-label='Mei Lin, R.Ac.']")
    column.locator(f".cal-slot[data-at='{day}T16:30']").click()
    page.wait_for_url("**/admin/desk/book?**")
    assert page.input_value("#scheduled_at") == f"{day}T16:30"
    choose(page, "#s2id_client", "Calendar")
    page.select_option("#modality", "facial_massage")
    page.click("button:has-text('Book and screen')")
    page.wait_for_url(re.compile(r".*/admin/desk/\d+$"))
    treatment_id = int(page.url.rstrip("/").rsplit("/", 1)[1])

    page.goto(f"{page.server.url}/admin/calendar/?day={day}")
    block = page.locator(f".cal-block[href$='/admin/desk/{treatment_id}']")
    assert "16:30" in block.inner_text()
    page.once("dialog", lambda dialog: dialog.accept())
    # Onto the lower half of Sam Okafor's 15:00 slot: a quarter past.
    block.drag_to(
        page.locator(".cal-col[aria-label='Sam Okafor']").locator(f".cal-slot[data-at='{day}T15:00']"),
        target_position={"x": 10, "y": 35},
    )
    page.wait_for_selector("text=Moved to")
    moved = page.locator(f".cal-block[href$='/admin/desk/{treatment_id}']")
    assert "15:15" in moved.inner_text()
    assert page.locator(".cal-col[aria-label='Sam Okafor']").locator(f"a[href$='/admin/desk/{treatment_id}']").count()

    moved.click()
    page.wait_for_url(f"**/admin/desk/{treatment_id}")
    page.select_option("#cancel-by", "client")
    page.fill("#call-off input[name=reason]", "Unwell, will call to rebook")
    page.click("button:has-text('Cancel booking')")
    page.wait_for_selector("text=Booking cancelled")
    assert "cancelled by the client" in page.inner_text("dl")

    def missed(db):
        """A booking a few hours ago (the first free hour going back; a manager confirms it if out of hours)."""
        from clinicadmin.models import Client

        practitioner = db.session.execute(db.select(User).where(User.email == "practitioner@example.com")).scalar_one()
        manager = db.session.execute(db.select(User).where(User.email == "manager@example.com")).scalar_one()
        location = db.session.execute(db.select(Location)).scalars().first()
        for hours_ago in range(2, 48):
            try:
                return book_flow(
                    client=db.session.get(Client, client_id),
                    modality="facial_massage",
                    practitioner=practitioner,
                    location=location,
                    user=manager,
                    confirm_outside_hours=True,
                    scheduled_at=datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
                    - timedelta(hours=hours_ago),
                ).id
            except TreatmentRejected:
                continue
        raise AssertionError("no free hour in the last two days")

    missed_id = with_db(page.server, missed)
    page.goto(f"{page.server.url}/admin/desk/{missed_id}")
    page.click("button:has-text('did not come')")
    page.wait_for_selector("text=Marked as a no-show")
    assert "no-show" in page.inner_text("dl")
    assert with_db(page.server, lambda db: db.session.get(Treatment, missed_id).cancellation) == "no_show"


def test_an_acupuncture_session_is_recorded_by_tapping_the_chart(page):
    """Tap three points on the face chart (a pregnant client's chart marks what pregnancy forbids), record, and see
    them on the record's chart and in the points report."""
    client_id = new_client(page.server, "Tess", "Tapping", conditions=["pregnancy"])
    log_in(page, "manager@example.com")
    treatment_id = book(page, client_id, "cosmetic_acupuncture")
    page.click("text=Record as performed")
    face = page.locator("figure.diagram-live[data-field='details-face_points']")
    body = page.locator("figure.diagram-live[data-field='details-body_points']")
    face.wait_for()  # the script has made the chart live
    assert body.is_visible()
    assert body.locator("circle.forbidden[data-code='SP6']").count() == 2  # both legs
    assert "SP6 Sanyinjiao: forbidden in pregnancy" in body.inner_text()
    assert face.locator("circle.forbidden").count() == 0
    for code in ("ST2", "LI20", "EX-HN3"):
        face.locator(f"circle[data-code='{code}']").first.click()
        assert page.is_checked(f"input[name='details-face_points'][value='{code}']")
        assert face.locator(f"circle.chosen[data-code='{code}']").count() >= 1
    face.locator("circle[data-code='GV24']").click()  # a second tap unticks
    face.locator("circle[data-code='GV24']").click()
    assert not page.is_checked("input[name='details-face_points'][value='GV24']")
    # The tick-list stays the keyboard's control; the chart shows which box has the focus.
    page.focus("input[name='details-face_points'][value='CV24']")
    assert face.locator("circle.focused[data-code='CV24']").count() == 1
    page.locator(".diagrams").screenshot(path=str(page.server.shots / "treatment-chart.png"))
    choose(page, "#s2id_details-facial_needle_product", "Facial acupuncture")
    page.fill("input[name='details-facial_needles']", "5")
    page.fill("input[name='details-retention_minutes']", "20")
    page.fill("#acknowledgement_note", "Second trimester; face points only")
    page.click("button:has-text('Record treatment')")
    page.wait_for_selector("text=stock was deducted")
    assert f"/admin/desk/{treatment_id}" in page.url
    record = page.locator("#diagrams figure.diagram-record").first
    assert record.locator("svg").get_attribute("aria-label") == "Face points: EX-HN3 Yintang, ST2 Sibai, LI20 Yingxiang"
    assert {record.locator("circle.chosen").nth(i).get_attribute("data-code") for i in range(5)} == {
        "ST2",
        "LI20",
        "EX-HN3",
    }
    record.screenshot(path=str(page.server.shots / "treatment-chart-record.png"))
    page.goto(f"{page.server.url}/admin/reports/cosmetic-acupuncture-points?date_from={datetime.now(UTC).date()}")
    table = page.inner_text("table.report-table")
    assert all(code in table for code in ("ST2", "LI20", "EX-HN3"))
