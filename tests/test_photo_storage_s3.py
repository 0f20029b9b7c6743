"""Photos in an S3-compatible bucket, against a real S3-protocol server: moto's standalone server, started here on a
free port. Skipped with the reason when it cannot start, except in CI (``CLINICADMIN_REQUIRE_POSTGRES``)."""

import io
import json
import os
import uuid
from datetime import timedelta

import pytest
from click.testing import CliRunner
from fake_modality import FakeModality
from photo_samples import phone_photo
from PIL import Image

from clinicadmin.cli import backup, check
from clinicadmin.extensions import db
from clinicadmin.models import Photo, PhotoConsent
from clinicadmin.photo_storage import S3Storage, photo_storage


@pytest.fixture(scope="module")
def s3_endpoint():
    """The URL of moto's standalone S3 server, running in a thread of this process for the module."""
    try:
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
    except Exception as exc:  # moto missing, or the server cannot bind
        if os.environ.get("CLINICADMIN_REQUIRE_POSTGRES"):
            pytest.fail(f"moto's S3 server could not start ({exc}); CI requires it")
        pytest.skip(f"moto's S3 server could not start ({exc}); pip install 'moto[s3]' flask-cors")
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def app_config(s3_endpoint, monkeypatch):
    import boto3

    # Credentials as boto3 finds them in a deployment: the environment (moto takes any).
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "clinic-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "clinic-test-secret")
    bucket = f"clinic-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    return {
        "PLUGINS_ENABLED": [],
        "EXTRA_PLUGINS": [("fake", FakeModality())],
        "PHOTO_STORAGE": "s3",
        "PHOTO_S3_BUCKET": bucket,
        "PHOTO_S3_ENDPOINT_URL": s3_endpoint,
        "PHOTO_S3_REGION": "us-east-1",
    }


def test_photos_go_to_the_bucket_are_served_from_it_checked_and_left_to_its_backups(app, login, clinic, tmp_path):
    client = clinic.client()
    db.session.add(PhotoConsent(client_id=client.id, scope="clinical", signed_on=clinic.today - timedelta(days=1)))
    db.session.commit()
    practitioner = login("practitioner")
    page = practitioner.post(
        f"/admin/photos/new?client_id={client.id}",
        data={"kind": "before", "area": "face", "photos": [(io.BytesIO(phone_photo()), "IMG_1.JPG")]},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "1 photo stored." in page.get_data(as_text=True)
    storage = photo_storage()
    assert isinstance(storage, S3Storage)
    photo = db.session.execute(db.select(Photo)).scalar_one()
    assert storage.keys() == {photo.storage_key, photo.thumb_key}
    stored = storage.client.get_object(Bucket=storage.bucket, Key="photos/" + photo.storage_key)["Body"].read()
    assert b"Exif" not in stored and Image.open(io.BytesIO(stored)).size == (60, 80)

    served = practitioner.get(f"/admin/photos/{photo.id}/image")
    assert served.status_code == 200 and served.data == stored and served.headers["Cache-Control"] == "no-store"

    assert CliRunner().invoke(check, []).exit_code == 0
    storage.remove(photo.thumb_key)
    broken = CliRunner().invoke(check, [])
    assert broken.exit_code == 1 and f"its thumbnail {photo.thumb_key} is missing from the bucket" in broken.output

    folder = tmp_path / "backup"
    result = CliRunner().invoke(backup, [str(folder)], catch_exceptions=False)
    assert result.exit_code == 0
    manifest = json.loads((folder / "manifest.json").read_text())
    assert f"the bucket {storage.bucket}" in manifest["photos"] and "its own means" in manifest["photos"]
    assert not (folder / "photos").exists()
