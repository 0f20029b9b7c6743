"""Clinical photos through the pages, on SQLite and PostgreSQL: photo consent first, every file checked by its content,
cleaned of its metadata and turned upright, streamed only to clinical roles without caching and audited, compared,
printed with the history when the clinic says so, archived never deleted, backed up and checked."""

import io
import json
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from photo_samples import LATITUDE, SCRIPT, decompression_bomb, phone_photo, png
from PIL import Image

from clinicadmin.cli import backup, check
from clinicadmin.clock import now
from clinicadmin.extensions import db
from clinicadmin.models import AuditEvent, Client, FormSubmission, Photo, PhotoConsent
from clinicadmin.photo_storage import photo_storage
from clinicadmin.photos import read_upload


@pytest.fixture
def app_config():
    from fake_modality import FakeModality

    # Small limits, so the refused sizes are small files.
    return {
        "PLUGINS_ENABLED": [],
        "EXTRA_PLUGINS": [("fake", FakeModality())],
        "PHOTO_MAX_BYTES": 3 * 1024 * 1024,
        "PHOTO_MAX_PIXELS": 4_000_000,
    }


def consent(clinic, client, scope="clinical", days_ago=5, withdrawn_days_ago=None):
    row = PhotoConsent(
        client_id=client.id,
        scope=scope,
        signed_on=clinic.today - timedelta(days=days_ago),
        withdrawn_on=None if withdrawn_days_ago is None else clinic.today - timedelta(days=withdrawn_days_ago),
    )
    db.session.add(row)
    db.session.commit()
    return row


def upload(http, client, *files, kind="before", area="face", note="", treatment=None, once=None):
    data = {"client_id": client.id, "kind": kind, "area": area, "note": note}
    if once is not None:
        data["once"] = once
    if treatment is not None:
        data["treatment_id"] = treatment.id
    data["photos"] = [(io.BytesIO(content), name) for name, content in files]
    return http.post(
        f"/admin/photos/new?client_id={client.id}", data=data, content_type="multipart/form-data", follow_redirects=True
    )


def photos_of(client):
    db.session.expire_all()
    return db.session.execute(db.select(Photo).where(Photo.client_id == client.id).order_by(Photo.id)).scalars().all()


def actions(name):
    return db.session.execute(db.select(AuditEvent).where(AuditEvent.action == name)).scalars().all()


def test_no_photo_is_taken_without_photo_consent_and_the_desk_records_it(app, login, clinic):
    client = clinic.client()
    practitioner = login("practitioner")
    refused = upload(practitioner, client, ("face.jpg", phone_photo()))
    assert "has no photo consent on file today" in refused.get_data(as_text=True)
    assert photos_of(client) == [] and photo_storage().keys() == set()

    desk = login("front_desk")
    recorded = desk.post(
        "/admin/photo_consent/new/",
        data={"client": client.id, "scope": "teaching", "signed_on": clinic.today.isoformat()},
        follow_redirects=True,
    )
    assert recorded.status_code == 200
    assert db.session.execute(db.select(PhotoConsent.scope)).scalar_one() == "teaching"

    stored = upload(practitioner, client, ("face.jpg", phone_photo()), ("neck.png", png()), note="left side")
    assert "2 photos stored." in stored.get_data(as_text=True)
    taken = photos_of(client)
    assert [(p.kind, p.area, p.note, p.consent_scope) for p in taken] == [
        ("before", "face", "left side", "teaching")
    ] * 2
    assert len(actions("photo.take")) == 2


def test_a_withdrawn_consent_stops_new_photos(app, login, clinic):
    client = clinic.client()
    consent(clinic, client, days_ago=30, withdrawn_days_ago=1)
    page = upload(login("practitioner"), client, ("face.jpg", phone_photo()))
    assert "has no photo consent on file today" in page.get_data(as_text=True)
    assert photos_of(client) == []


def test_a_phone_photo_is_served_upright_without_its_metadata(app, login, clinic):
    client = clinic.client()
    consent(clinic, client)
    practitioner = login("practitioner")
    sent = phone_photo("JPEG", size=(80, 60))
    assert b"PhoneMaker" in sent and Image.open(io.BytesIO(sent)).getexif().get_ifd(0x8825)[2] == LATITUDE
    upload(practitioner, client, ("IMG_0001.JPG", sent))
    (photo,) = photos_of(client)

    served = practitioner.get(f"/admin/photos/{photo.id}/image")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["Cache-Control"] == "no-store"
    body = served.data
    image = Image.open(io.BytesIO(body))
    assert image.size == (60, 80) == (photo.width, photo.height)  # turned upright from its EXIF orientation
    assert len(image.getexif()) == 0 and "exif" not in image.info and "icc_profile" not in image.info
    assert b"Exif" not in body and b"PhoneMaker" not in body and b"private comment" not in body
    assert photo.storage_key not in ("IMG_0001.JPG",) and "IMG" not in photo.storage_key
    thumb = practitioner.get(f"/admin/photos/{photo.id}/thumbnail")
    assert thumb.headers["Cache-Control"] == "no-store" and b"Exif" not in thumb.data
    assert [e.client_id for e in actions("photo.image")] == [client.id]
    assert len(actions("photo.thumbnail")) == 1


def test_a_heic_photo_from_a_phone_is_stored_as_a_clean_jpeg(app, login, clinic):
    client = clinic.client()
    consent(clinic, client)
    practitioner = login("practitioner")
    page = upload(practitioner, client, ("IMG_0002.HEIC", phone_photo("HEIF", size=(64, 48))))
    assert "1 photo stored." in page.get_data(as_text=True)
    (photo,) = photos_of(client)
    body = practitioner.get(f"/admin/photos/{photo.id}/image").data
    image = Image.open(io.BytesIO(body))
    assert image.format == "JPEG" and image.size == (48, 64) and len(image.getexif()) == 0


def _png(mode, size, compress_level=6):
    """A PNG of ``size`` whose pixels are a repeating ramp (with no compression, as large as its pixels)."""
    count = size[0] * size[1] * len(mode)
    out = io.BytesIO()
    Image.frombytes(mode, size, (bytes(range(256)) * (count // 256 + 1))[:count]).save(
        out, "PNG", compress_level=compress_level
    )
    return out.getvalue()


def _gif():
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    return out.getvalue()


HOSTILE = [
    ("holiday.jpg", lambda: SCRIPT, "is not a photo: its content is not JPEG, PNG or HEIC, whatever its name"),
    ("bomb.png", decompression_bomb, "declares more pixels than a photo may have"),
    ("empty.jpg", lambda: b"", "is empty (0 bytes)"),
    # a real PNG of more pixels than the clinic allows (2500 × 2000 = 5 million)
    ("huge.png", lambda: _png("L", (2500, 2000)), "a photo may have at most 4 million pixels"),
    ("heavy.png", lambda: _png("L", (1900, 1900), compress_level=0), "a photo may be at most 3 MB"),
    ("cut.jpg", lambda: phone_photo()[:300], "is damaged or incomplete"),
    ("anim.gif", _gif, "is not a JPEG, PNG or HEIC photo (GIF content)"),
]


def test_hostile_files_are_refused_clearly_and_nothing_is_stored(app, login, clinic):
    """Each sent beside a good photo: the page names the file and why, and nothing of either is stored."""
    client = clinic.client()
    consent(clinic, client)
    practitioner = login("practitioner")
    for name, content, message in HOSTILE:
        page = upload(practitioner, client, ("good.jpg", phone_photo()), (name, content()))
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert f"“{name}”" in text and message in text and "No photo was stored." in text, (name, text)
        assert photos_of(client) == [] and photo_storage().keys() == set()
    assert (
        db.session.execute(db.select(db.func.count(AuditEvent.id)).where(AuditEvent.action == "photo.take")).scalar()
        == 0
    )


def test_the_upload_takes_photos_larger_than_other_forms_may_be(app, login, clinic):
    client = clinic.client()
    consent(clinic, client)
    practitioner = login("practitioner")
    big = _png("RGB", (1000, 900), compress_level=0)
    assert 2 * 1024 * 1024 < len(big) < 3 * 1024 * 1024
    assert "1 photo stored." in upload(practitioner, client, ("big.png", big)).get_data(as_text=True)
    other = practitioner.post("/admin/photo_consent/new/", data={"client": client.id, "padding": "x" * len(big)})
    assert other.status_code == 413
    app.config["PHOTO_UPLOAD_MAX_BYTES"] = 2 * 1024 * 1024
    refused = upload(practitioner, client, ("big.png", big))
    assert refused.status_code == 413 and "larger than 2 MB; nothing was stored" in refused.get_data(as_text=True)
    assert len(photos_of(client)) == 1


def test_only_clinical_roles_see_photos(app, login, clinic, staff):
    client = clinic.client()
    consent(clinic, client)
    upload(login("practitioner"), client, ("face.jpg", phone_photo()))
    (photo,) = photos_of(client)
    for role in ("front_desk", "stock_clerk"):
        http = login(role)
        for url in (
            f"/admin/photos/{photo.id}/image",
            f"/admin/photos/{photo.id}/thumbnail",
            f"/admin/photos/{photo.id}",
            f"/admin/photos/?client_id={client.id}",
            f"/admin/photos/new?client_id={client.id}",
        ):
            assert http.get(url).status_code == 403, (role, url)
    desk_record = login("front_desk").get(f"/admin/client_desk/details/?id={client.id}").get_data(as_text=True)
    assert 'id="client-photos"' not in desk_record and "Record a photo consent" in desk_record
    manager = login("manager")
    assert manager.get(f"/admin/photos/{photo.id}/image").status_code == 200
    anonymous = app.test_client().get(f"/admin/photos/{photo.id}/image")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    client.archived_at = now()
    db.session.commit()
    assert login("practitioner").get(f"/admin/photos/{photo.id}/image").status_code == 404


def test_a_photos_use_is_limited_to_the_scope_its_consent_had(app, login, clinic):
    client = clinic.client()
    given = consent(clinic, client, scope="teaching")
    practitioner = login("practitioner")
    upload(practitioner, client, ("face.jpg", phone_photo()))
    (photo,) = photos_of(client)
    page = practitioner.get(f"/admin/photos/{photo.id}").get_data(as_text=True)
    assert "The clinical record: yes; Teaching: yes; Marketing: no" in page
    # A broader consent signed later does not widen what an earlier photo may be used for; withdrawing the one it
    # was taken under ends its teaching use.
    given.withdrawn_on = clinic.today
    db.session.commit()
    consent(clinic, client, scope="marketing", days_ago=0)
    page = practitioner.get(f"/admin/photos/{photo.id}").get_data(as_text=True)
    assert "The clinical record: yes; Teaching: no; Marketing: no" in page


def test_a_clients_photos_are_compared_by_area_in_date_order(app, login, clinic):
    client = clinic.client()
    consent(clinic, client)
    practitioner = login("practitioner")
    upload(practitioner, client, ("a.jpg", phone_photo()), kind="before")
    upload(practitioner, client, ("b.jpg", phone_photo()), kind="after")
    upload(practitioner, client, ("c.jpg", phone_photo()), area="neck")
    before, after, neck = photos_of(client)
    before.taken_at -= timedelta(days=30)
    db.session.commit()
    gallery = practitioner.get(f"/admin/photos/?client_id={client.id}").get_data(as_text=True)
    assert gallery.index('<h2 class="h5 mt-3">Face') < gallery.index(f"/admin/photos/{before.id}/thumbnail")
    assert gallery.index(f"/{before.id}/thumbnail") < gallery.index(f"/{after.id}/thumbnail")
    assert gallery.index(f"/{after.id}/thumbnail") < gallery.index('<h2 class="h5 mt-3">Neck')
    for mode in ("side", "slider"):
        page = practitioner.get(f"/admin/photos/compare?photo={after.id}&photo={before.id}&mode={mode}")
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        assert text.index(f"/{before.id}/image") < text.index(f"/{after.id}/image") or mode == "slider"
        assert "photo_compare.js" in text
    one = practitioner.get(f"/admin/photos/compare?photo={after.id}&client_id={client.id}", follow_redirects=True)
    assert "Choose two photos to compare." in one.get_data(as_text=True)
    assert len(actions("photo.compare")) == 2


def test_the_printed_history_shows_session_photos_when_the_clinic_says_so(core, login):
    from fake_modality import KEY

    client = core.client(consents=[KEY])
    consent(core, client)
    treatment = core.booked(client, KEY)
    practitioner = login("practitioner")
    practitioner.record(treatment, {"product": core.supply.id, "amount": "0.5"})
    db.session.expire_all()
    assert treatment.status == "performed"
    page = practitioner.get(f"/admin/desk/{treatment.id}").get_data(as_text=True)
    assert f"treatment_id={treatment.id}" in page and 'id="treatment-photos"' in page
    upload(practitioner, client, ("a.jpg", phone_photo()), kind="after", treatment=treatment)
    (photo,) = photos_of(client)
    assert photo.treatment_id == treatment.id
    history = f"/admin/client-history/?id={client.id}"
    assert f"/admin/photos/{photo.id}/thumbnail" not in practitioner.get(history).get_data(as_text=True)
    core.setting("core.photos_in_history", True)
    assert f"/admin/photos/{photo.id}/thumbnail" in practitioner.get(history).get_data(as_text=True)


def test_a_photo_is_archived_once_with_a_reason_and_never_deleted(app, login, clinic, staff):
    client = clinic.client()
    consent(clinic, client)
    practitioner = login("practitioner")
    upload(practitioner, client, ("a.jpg", phone_photo()))
    (photo,) = photos_of(client)
    assert "Write why" in practitioner.post(
        f"/admin/photos/{photo.id}/archive", data={"reason": "  "}, follow_redirects=True
    ).get_data(as_text=True)
    done = practitioner.post(
        f"/admin/photos/{photo.id}/archive", data={"reason": "wrong client"}, follow_redirects=True
    )
    assert "Photo archived" in done.get_data(as_text=True)
    again = practitioner.post(
        f"/admin/photos/{photo.id}/archive", data={"reason": "again, twice"}, follow_redirects=True
    )
    assert "already archived" in again.get_data(as_text=True)
    (kept,) = photos_of(client)
    assert kept.archive_reason == "wrong client" and kept.archived_by_id == staff["practitioner"].id
    assert len(actions("photo.archive")) == 1
    assert f"/{photo.id}/thumbnail" not in practitioner.get(f"/admin/photos/?client_id={client.id}").get_data(
        as_text=True
    )
    assert practitioner.get(f"/admin/photos/{photo.id}/image").status_code == 200  # still on record
    db.session.delete(kept)
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()


def test_check_finds_rows_without_files_and_files_without_rows(app, login, clinic):
    client = clinic.client()
    consent(clinic, client)
    upload(login("practitioner"), client, ("a.jpg", phone_photo()), ("b.jpg", phone_photo()))
    first, second = photos_of(client)
    clean = CliRunner().invoke(check, [])
    assert clean.exit_code == 0 and "every photo row has its files" in clean.output, clean.output
    storage = photo_storage()
    storage.remove(first.storage_key)
    storage.put("0" * 32 + ".jpg", b"stray")
    broken = CliRunner().invoke(check, [])
    assert broken.exit_code == 1
    assert f"PHOTOS: photo {first.id}: its file {first.storage_key} is missing" in broken.output
    assert f"PHOTOS: {'0' * 32}.jpg in the folder" in broken.output and "belongs to no photo row" in broken.output
    assert str(second.id) + ":" not in broken.output


def test_backup_includes_the_photo_files(app, login, clinic, tmp_path):
    client = clinic.client()
    consent(clinic, client)
    upload(login("practitioner"), client, ("a.jpg", phone_photo()))
    (photo,) = photos_of(client)
    folder = tmp_path / "backup"
    result = CliRunner().invoke(backup, [str(folder)], catch_exceptions=False)
    assert result.exit_code == 0 and "2 photo files" in result.output, result.output
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "2 photo files" in manifest["photos"]
    assert (folder / "photos" / photo.storage_key).read_bytes() == photo_storage().get(photo.storage_key)
    assert (folder / "photos" / photo.storage_key).stat().st_mode & 0o777 == 0o600


def test_a_session_photo_shows_an_area_of_its_modality_and_a_modality_names_its_areas_well(app, login, clinic):
    from fake_modality import KEY

    from clinicadmin.plugin_api import Modality

    client = clinic.client(consents=[KEY])
    consent(clinic, client)
    treatment = clinic.booked(client, KEY)
    page = upload(login("practitioner"), client, ("a.jpg", phone_photo()), area="knee", treatment=treatment)
    assert "Choose the area the photos show." in page.get_data(as_text=True) and photos_of(client) == []
    for areas in (("face",), (("face", "Face"), ("face", "Cheeks")), (("face", ""),)):
        with pytest.raises(ValueError, match="area"):
            Modality("m", "M", areas=areas)


def _write_elsewhere(client_id):
    """An UPDATE on a connection of its own, waiting at most 2 s for SQLite's write lock (not the 30 s a page waits)."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA busy_timeout=2000")
        conn.execute(db.update(Client).where(Client.id == client_id).values(phone="0123 456"))
        conn.commit()


def test_an_upload_holds_no_database_lock_while_it_cleans_and_a_double_submit_stores_once(
    app, login, clinic, monkeypatch
):
    """The slow part of an upload (cleaning, storing the files) runs before its transaction: another writer is not
    kept waiting (SQLite has one write lock for the whole file), and the same form sent twice stores its photos once
    and leaves no file behind for the submission that lost."""
    import clinicadmin.photos as photos

    client = clinic.client()
    consent(clinic, client)
    cleaning, proceed, calls = threading.Event(), threading.Event(), []
    real_clean = photos.clean

    def slow_clean(data, **kwargs):
        calls.append(1)
        if len(calls) == 1:  # the first submission waits here until the test lets it go on
            cleaning.set()
            assert proceed.wait(30)
        return real_clean(data, **kwargs)

    monkeypatch.setattr(photos, "clean", slow_clean)
    first, second = login("practitioner"), login("practitioner")
    first.csrf_token()
    answers = {}
    plain = SimpleNamespace(id=client.id)  # the thread has no app context to load an expired row in
    sending = threading.Thread(
        target=lambda: answers.update(first=upload(first, plain, ("a.jpg", phone_photo()), once="same-form-token"))
    )
    sending.start()
    try:
        assert cleaning.wait(30)
        _write_elsewhere(client.id)  # on SQLite, raises "database is locked" if the upload had written already
        assert second.get(f"/admin/photos/?client_id={client.id}").status_code == 200  # audited read: a write
        assert (
            db.session.execute(db.select(FormSubmission).where(FormSubmission.token == "same-form-token")).all() == []
        )
        again = upload(second, client, ("a.jpg", phone_photo()), once="same-form-token")
        assert "1 photo stored." in again.get_data(as_text=True)
    finally:
        proceed.set()
        sending.join(60)
    assert "already submitted" in answers["first"].get_data(as_text=True)
    (photo,) = photos_of(client)
    assert photo_storage().keys() == {photo.storage_key, photo.thumb_key}  # the loser's files were removed
    assert len(actions("photo.take")) == 1
    result = CliRunner().invoke(check, [])
    assert "belongs to no photo row" not in result.output, result.output
    # Sent once more after it was stored, the form is refused before its file is cleaned at all.
    calls.clear()
    third = upload(second, client, ("a.jpg", phone_photo()), once="same-form-token")
    assert "already submitted" in third.get_data(as_text=True) and calls == []
    assert len(photos_of(client)) == 1 and len(photo_storage().keys()) == 2


def test_an_uploaded_file_is_read_only_as_far_as_the_limit_needs(app):
    from werkzeug.datastructures import FileStorage

    sent = read_upload(FileStorage(io.BytesIO(b"x" * 1000), filename="big.jpg"), 10)
    assert sent.name == "big.jpg" and sent.data == b"x" * 11


def _consent_form(client, scope="marketing", signed_on=None):
    return {"client": client.id, "scope": scope, "signed_on": signed_on.isoformat()}


def test_a_recorded_photo_consent_cannot_be_moved_narrowed_or_redated_by_a_crafted_post(app, login, clinic):
    alice, bob = clinic.client(first="Alice"), clinic.client(first="Bob")
    desk = login("front_desk")
    desk.post("/admin/photo_consent/new/", data=_consent_form(alice, signed_on=clinic.today))
    given = db.session.execute(db.select(PhotoConsent)).scalar_one()
    upload(login("practitioner"), alice, ("a.jpg", phone_photo()))
    (photo,) = photos_of(alice)
    for role in ("front_desk", "practitioner", "manager", "admin"):
        for changed in (
            _consent_form(bob, signed_on=clinic.today),
            _consent_form(alice, scope="clinical", signed_on=clinic.today),
            _consent_form(alice, signed_on=clinic.today - timedelta(days=9)),
            {**_consent_form(alice, signed_on=clinic.today), "withdrawn_on": clinic.today.isoformat()},
        ):
            refused = login(role).post(f"/admin/photo_consent/edit/?id={given.id}", data=changed, follow_redirects=True)
            assert "Nothing was changed" in refused.get_data(as_text=True), role
    db.session.expire_all()
    kept = db.session.get(PhotoConsent, given.id)
    assert (kept.client_id, kept.scope, kept.signed_on, kept.withdrawn_on) == (
        alice.id,
        "marketing",
        clinic.today,
        None,
    )
    assert photos_of(alice)[0].consent.client_id == alice.id and photos_of(bob) == []
    form = login("front_desk").get(f"/admin/photo_consent/edit/?id={given.id}", follow_redirects=True)
    assert "cannot be changed once recorded" in form.get_data(as_text=True) and 'name="scope"' not in form.get_data(
        as_text=True
    )
    # A withdrawal cannot be slipped into a new consent either: it is recorded on its own, with a reason.
    desk.post(
        "/admin/photo_consent/new/",
        data={**_consent_form(bob, signed_on=clinic.today), "withdrawn_on": clinic.today.isoformat()},
    )
    (bobs,) = db.session.execute(db.select(PhotoConsent).where(PhotoConsent.client_id == bob.id)).scalars()
    assert bobs.withdrawn_on is None


def test_a_photo_consent_is_withdrawn_once_with_a_reason_and_never_restored(app, login, clinic, staff):
    client = clinic.client()
    given = consent(clinic, client, scope="marketing", days_ago=10)
    practitioner = login("practitioner")
    upload(practitioner, client, ("a.jpg", phone_photo()))
    (photo,) = photos_of(client)
    desk = login("front_desk")
    details = desk.get(f"/admin/photo_consent/details/?id={given.id}").get_data(as_text=True)
    assert f"/admin/photo_consent/withdraw/?id={given.id}" in details
    url = f"/admin/photo_consent/withdraw/?id={given.id}"
    assert (
        login("stock_clerk").post(url, data={"withdrawn_on": clinic.today.isoformat(), "reason": "asked"}).status_code
        == 403
    )
    for bad, message in (
        ({"withdrawn_on": clinic.today.isoformat(), "reason": "  no "}, "Write why"),
        ({"withdrawn_on": (clinic.today + timedelta(days=1)).isoformat(), "reason": "phoned us"}, "in the future"),
        (
            {"withdrawn_on": (clinic.today - timedelta(days=20)).isoformat(), "reason": "phoned us"},
            "before it was signed",
        ),
    ):
        page = desk.post(url, data=bad, follow_redirects=True)
        assert message in page.get_data(as_text=True), bad
    db.session.expire_all()
    assert db.session.get(PhotoConsent, given.id).withdrawn_on is None
    done = desk.post(
        url, data={"withdrawn_on": clinic.today.isoformat(), "reason": "phoned to withdraw"}, follow_redirects=True
    )
    assert "withdrawal is recorded" in done.get_data(as_text=True)
    again = desk.post(
        url,
        data={"withdrawn_on": (clinic.today - timedelta(days=1)).isoformat(), "reason": "changed my mind"},
        follow_redirects=True,
    )
    assert "already withdrawn" in again.get_data(as_text=True)
    cleared = desk.post(
        f"/admin/photo_consent/edit/?id={given.id}",
        data={**_consent_form(client, signed_on=given.signed_on), "withdrawn_on": ""},
        follow_redirects=True,
    )
    assert "Nothing was changed" in cleared.get_data(as_text=True)
    db.session.expire_all()
    kept = db.session.get(PhotoConsent, given.id)
    assert (kept.withdrawn_on, kept.withdrawal_reason, kept.withdrawn_by_id) == (
        clinic.today,
        "phoned to withdraw",
        staff["front_desk"].id,
    )
    assert kept.withdrawn_at is not None and kept.withdrawn_at.tzinfo is not None
    (event,) = actions("photo_consent.withdraw")
    assert event.client_id == client.id and event.detail["reason"] == "phoned to withdraw"
    page = practitioner.get(f"/admin/photos/{photo.id}").get_data(as_text=True)
    assert "The clinical record: yes; Teaching: no; Marketing: no" in page
    assert "has no photo consent on file today" in upload(practitioner, client, ("b.jpg", phone_photo())).get_data(
        as_text=True
    )


def test_a_photo_cannot_be_moved_or_changed_by_a_crafted_post(app, login, clinic):
    alice, bob = clinic.client(first="Alice"), clinic.client(first="Bob")
    consent(clinic, alice)
    other = consent(clinic, bob)
    manager = login("manager")
    upload(manager, alice, ("a.jpg", phone_photo()))
    (photo,) = photos_of(alice)
    crafted = {"client_id": bob.id, "consent_id": other.id, "treatment_id": "1", "client": bob.id, "id": photo.id}
    assert manager.post(f"/admin/photo/edit/?id={photo.id}", data=crafted).status_code == 404
    assert manager.post(f"/admin/photos/{photo.id}", data=crafted).status_code == 405
    assert manager.post(f"/admin/photos/{photo.id}/image", data=crafted).status_code == 405
    (kept,) = photos_of(alice)
    assert (kept.client_id, kept.consent_id, kept.treatment_id) == (alice.id, photo.consent_id, None)
    assert photos_of(bob) == []
