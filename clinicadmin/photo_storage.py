"""Where photo files live, behind one small interface: a folder (``instance/photos/`` by default) or an
S3-compatible bucket (``PHOTO_STORAGE = "s3"``). Keys are opaque ids made here, never a name a person gave; nothing
here is reachable by a URL (photos are streamed by the photo view, which checks who asks)."""

import os
import re
import secrets
import tempfile
from pathlib import Path

from flask import current_app

KEY = re.compile(r"^[a-z0-9]{32}(\.thumb)?\.jpg$")


class StorageError(RuntimeError):
    """The storage could not be read or written; the message says which and why."""


def new_key():
    """A fresh opaque key for a photo and the one for its thumbnail."""
    token = secrets.token_hex(16)
    return f"{token}.jpg", f"{token}.thumb.jpg"


def _checked(key):
    if not KEY.match(key):
        raise StorageError(f"not a photo key: {key!r}")
    return key


class FolderStorage:
    """Files in one folder (mode 0700), each written whole (a temporary file renamed) so a reader never sees half."""

    def __init__(self, root):
        self.root = Path(root)

    def describe(self):
        return f"the folder {self.root}"

    def put(self, key, data):
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, partial = tempfile.mkstemp(dir=self.root, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(partial, 0o600)
            os.replace(partial, self.root / _checked(key))
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise

    def get(self, key):
        try:
            return (self.root / _checked(key)).read_bytes()
        except FileNotFoundError:
            raise StorageError(f"the photo file {key} is missing from {self.describe()}") from None

    def remove(self, key):
        """Only for a file whose database row was never committed (an upload that failed)."""
        (self.root / _checked(key)).unlink(missing_ok=True)

    def keys(self):
        if not self.root.is_dir():
            return set()
        return {p.name for p in self.root.iterdir() if p.is_file() and not p.name.startswith(".")}


class S3Storage:
    """Objects in an S3-compatible bucket, under ``prefix``. Credentials come the way boto3 finds them (the
    environment's ``AWS_ACCESS_KEY_ID`` and ``AWS_SECRET_ACCESS_KEY``, a profile, an instance role), never from the
    repository."""

    def __init__(self, bucket, prefix="photos/", endpoint_url=None, region=None):
        import boto3
        from botocore.config import Config

        self.bucket, self.prefix = bucket, prefix
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30),
        )

    def describe(self):
        return f"the bucket {self.bucket} (prefix {self.prefix!r})"

    def put(self, key, data):
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self.prefix + _checked(key), Body=data, ContentType="image/jpeg"
            )
        except Exception as exc:  # botocore's errors have no common base worth naming here
            raise StorageError(f"could not store a photo in {self.describe()}: {exc}") from exc

    def get(self, key):
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.prefix + _checked(key))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise StorageError(f"the photo file {key} is missing from {self.describe()}") from None
        except Exception as exc:
            raise StorageError(f"could not read a photo from {self.describe()}: {exc}") from exc

    def remove(self, key):
        """Only for an object whose database row was never committed (an upload that failed)."""
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + _checked(key))

    def keys(self):
        found = set()
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            found.update(item["Key"][len(self.prefix) :] for item in page.get("Contents", ()))
        return found


def make_storage(config, instance_path):
    """The storage the configuration names: ``PHOTO_STORAGE`` "folder" (``PHOTO_FOLDER``, default
    ``instance/photos``) or "s3" (``PHOTO_S3_BUCKET``, ``PHOTO_S3_PREFIX``, ``PHOTO_S3_ENDPOINT_URL``,
    ``PHOTO_S3_REGION``)."""
    kind = config.get("PHOTO_STORAGE") or "folder"
    if kind == "folder":
        return FolderStorage(config.get("PHOTO_FOLDER") or Path(instance_path) / "photos")
    if kind == "s3":
        if not config.get("PHOTO_S3_BUCKET"):
            raise RuntimeError("PHOTO_STORAGE is s3 but PHOTO_S3_BUCKET is not set")
        return S3Storage(
            config["PHOTO_S3_BUCKET"],
            config.get("PHOTO_S3_PREFIX") or "",
            config.get("PHOTO_S3_ENDPOINT_URL"),
            config.get("PHOTO_S3_REGION"),
        )
    raise RuntimeError(f"PHOTO_STORAGE must be 'folder' or 's3', not {kind!r}")


def photo_storage():
    """The app's photo storage, made once per process on first use."""
    found = current_app.extensions.get("clinicadmin.photo_storage")
    if found is None:
        found = make_storage(current_app.config, current_app.instance_path)
        current_app.extensions["clinicadmin.photo_storage"] = found
    return found
