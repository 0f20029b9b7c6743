"""Clinical photos in a real browser (the fixtures of ``test_browser``: Chromium, the demo clinic on a local port):
a phone photo with its GPS position uploaded and served without it, a photo refused without photo consent, and two
photos compared side by side and with the slider (``static/photo_compare.js`` under the Content-Security-Policy)."""

import io
from datetime import UTC, datetime, timedelta

import pytest
import test_browser as journeys
from photo_samples import LATITUDE, phone_photo
from PIL import Image

# The journeys' fixtures (one browser, the demo clinic served on a local port, a page checked for script and CSP
# errors) and helpers, shared rather than copied.
browser, server, page = journeys.browser, journeys.server, journeys.page
log_in, new_client, shot, with_db = journeys.log_in, journeys.new_client, journeys.shot, journeys.with_db

pytestmark = pytest.mark.xdist_group("browser")

PRACTITIONER = "practitioner@example.com"


def photo_consent(server, client_id):
    from clinicadmin.models import PhotoConsent

    def make(db):
        today = datetime.now(UTC).date()
        row = PhotoConsent(client_id=client_id, scope="teaching", signed_on=today - timedelta(days=20))
        db.session.add(row)
        db.session.commit()
        return row.id

    return with_db(server, make)


def withdraw_photo_consents(server, client_id):
    from clinicadmin.models import PhotoConsent

    def withdraw(db):
        for row in db.session.execute(db.select(PhotoConsent).where(PhotoConsent.client_id == client_id)).scalars():
            row.withdrawn_on = datetime.now(UTC).date() - timedelta(days=1)
        db.session.commit()

    with_db(server, withdraw)


def open_upload(page, client_id):
    page.goto(f"{page.server.url}/admin/client/details/?id={client_id}")
    page.click("#client-photos")
    page.click("text=Take or upload photos")


def choose(page, *files):
    page.set_input_files(
        "#photo-files", [{"name": name, "mimeType": "image/jpeg", "buffer": content} for name, content in files]
    )
    page.select_option("#kind", "before")
    page.select_option("#area", "cheeks")


def test_a_phone_photo_with_its_gps_position_is_served_without_it(page):
    client_id = new_client(page.server, "Gina", "Geotag")
    photo_consent(page.server, client_id)
    sent = phone_photo("JPEG", size=(120, 90))
    assert Image.open(io.BytesIO(sent)).getexif().get_ifd(0x8825)[2] == LATITUDE
    log_in(page, PRACTITIONER)
    open_upload(page, client_id)
    choose(page, ("IMG_20261202_101500.jpg", sent))
    page.fill("#note", "left cheek, daylight")
    page.click("text=Store the photos")
    page.wait_for_selector("text=1 photo stored.")
    page.click(".photo-tile a")
    image = page.locator("img.photo-full")
    image.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert page.evaluate("img => img.naturalWidth", image.element_handle()) == 90  # upright
    response = page.request.get(page.server.url + image.get_attribute("src"))
    assert response.ok and response.headers["cache-control"] == "no-store"
    served = response.body()
    assert b"Exif" not in served and b"GPS" not in served and b"PhoneMaker" not in served
    assert len(Image.open(io.BytesIO(served)).getexif()) == 0
    shot(page, "photo.png")


def test_a_photo_is_refused_for_a_client_without_photo_consent(page):
    client_id = new_client(page.server, "Nora", "Noconsent")
    log_in(page, PRACTITIONER)
    page.goto(f"{page.server.url}/admin/photos/new?client_id={client_id}")
    assert "has no photo consent on file today" in page.inner_text("#no-photo-consent")
    assert page.locator("input[type=file]").count() == 0
    # A form opened while the consent stood is refused once it is withdrawn, and nothing is stored.
    photo_consent(page.server, client_id)
    page.reload()
    choose(page, ("face.jpg", phone_photo()))
    withdraw_photo_consents(page.server, client_id)
    page.click("text=Store the photos")
    page.wait_for_selector("text=has no photo consent on file today")
    page.goto(f"{page.server.url}/admin/photos/?client_id={client_id}")
    assert page.locator(".photo-tile").count() == 0


def test_two_photos_are_compared_side_by_side_and_with_the_slider(page):
    client_id = new_client(page.server, "Carla", "Compare")
    photo_consent(page.server, client_id)
    log_in(page, PRACTITIONER)
    open_upload(page, client_id)
    # several at once, of different shapes: compared, both are shown at the same size
    choose(
        page, ("first.jpg", phone_photo(size=(80, 60))), ("second.jpg", phone_photo(size=(200, 100), color=(9, 9, 9)))
    )
    page.click("text=Store the photos")
    page.wait_for_selector("text=2 photos stored.")
    boxes = page.locator("#compare-form input[type=checkbox]")
    assert boxes.count() == 2
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.click("text=Compare side by side")
    pair = page.locator("#photo-pair img")
    pair.nth(1).wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#photo-pair img')].every(i => i.complete && i.naturalWidth)"
    )
    first, second = pair.nth(0).bounding_box(), pair.nth(1).bounding_box()
    assert (first["width"], first["height"]) == (second["width"], second["height"]) and first["x"] < second["x"]
    shot(page, "photo-compare.png")

    page.click("text=With a slider")
    over = page.locator("#photo-slider-over[data-shown]")  # once photo_compare.js has run
    over.wait_for()
    assert over.get_attribute("data-shown") == "50"
    page.locator("#photo-slider-range").fill("20")
    assert over.get_attribute("data-shown") == "20"
    assert "80%" in over.evaluate("el => el.style.clipPath")
    under, top = (
        page.locator(".photo-slider-under").bounding_box(),
        page.locator("#photo-slider-over img").bounding_box(),
    )
    assert (under["width"], under["height"]) == (top["width"], top["height"])
