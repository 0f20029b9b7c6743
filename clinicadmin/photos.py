"""Taking, reading and archiving clinical photos: each step one transaction, audited, and allowed only with the
client's photo consent. The files go to :mod:`clinicadmin.photo_storage`; what a file may be is
:mod:`clinicadmin.photo_images`'s to say."""

from dataclasses import dataclass

from flask import current_app, request

from .audit import audit
from .clock import local_today, now
from .extensions import db
from .input_policy import FORBIDDEN, real_text
from .models import Photo, PhotoConsent
from .models.photos import PHOTO_KINDS
from .photo_images import PhotoRefused, clean
from .photo_storage import StorageError, new_key, photo_storage
from .plugins import registry
from .transitions import change_once, when

#: The endpoint whose request body may be larger than other forms' (``PHOTO_UPLOAD_MAX_BYTES``).
UPLOAD_ENDPOINT = "photos.upload"


class PhotoProblem(Exception):
    """The step was refused and nothing was stored; the message says why, for the person."""


@dataclass(frozen=True)
class Upload:
    """One file as it was sent: the name it came with (for messages only) and its bytes."""

    name: str
    data: bytes


def current_consent(client, day=None):
    """The client's photo consent valid on ``day`` (default: today), the latest signed, or None."""
    day = day or local_today()
    consents = db.session.execute(
        db.select(PhotoConsent)
        .where(PhotoConsent.client_id == client.id)
        .order_by(PhotoConsent.signed_on.desc(), PhotoConsent.id.desc())
    ).scalars()
    return next((c for c in consents if c.valid_on(day)), None)


def area_choices(treatment=None):
    """[(key, label)] of the areas photos may show: the treatment's modality's, or every loaded modality's."""
    modalities = registry().modalities
    chosen = [modalities[treatment.modality]] if treatment is not None and treatment.modality in modalities else []
    seen = {}
    for modality in chosen or modalities.values():
        for key, label in modality.areas:
            seen.setdefault(key, label)
    return sorted(seen.items(), key=lambda item: item[1])


def area_label(key):
    return dict(area_choices()).get(key, key)


def shown_name(name):
    """A sent file's name as a message may show it: no control characters, short."""
    return "“" + FORBIDDEN.sub("?", name or "the file")[-60:] + "”"


def take_photos(*, client, uploads, kind, area, note, user, treatment=None):
    """Store ``uploads`` as photos of ``client`` (of ``treatment`` when given), all or none, in one transaction;
    returns the new :class:`Photo` rows. Raises :class:`PhotoProblem` (nothing stored) without a valid photo consent,
    for an unknown kind or area, or when any file is refused."""
    if client.archived_at is not None:
        raise PhotoProblem("This client is archived; no photos can be added.")
    if treatment is not None and treatment.client_id != client.id:
        raise PhotoProblem("That treatment is another client's.")
    consent = current_consent(client)
    if consent is None:
        raise PhotoProblem(
            f"{client.full_name} has no photo consent on file today: record the signed photo consent first. "
            "No photo was stored."
        )
    if kind not in PHOTO_KINDS:
        raise PhotoProblem("Choose whether the photos are before, after, follow-up or a reaction.")
    if area not in dict(area_choices(treatment)):
        raise PhotoProblem("Choose the area the photos show.")
    uploads = [u for u in uploads if u.name or u.data]
    if not uploads:
        raise PhotoProblem("Choose at least one photo to upload.")
    limit = int(current_app.config["PHOTO_MAX_FILES"])
    if len(uploads) > limit:
        raise PhotoProblem(f"At most {limit} photos can be uploaded at once; nothing was stored.")
    cleaned = []
    for upload in uploads:
        try:
            cleaned.append(
                clean(
                    upload.data,
                    max_bytes=int(current_app.config["PHOTO_MAX_BYTES"]),
                    max_pixels=int(current_app.config["PHOTO_MAX_PIXELS"]),
                    name=shown_name(upload.name),
                )
            )
        except PhotoRefused as exc:
            raise PhotoProblem(str(exc) + (" No photo was stored." if len(uploads) > 1 else "")) from None
    storage = photo_storage()
    written, photos, at = [], [], now()
    try:
        for photo in cleaned:
            key, thumb_key = new_key()
            storage.put(key, photo.data)
            written.append(key)
            storage.put(thumb_key, photo.thumbnail)
            written.append(thumb_key)
            row = Photo(
                client_id=client.id,
                treatment_id=treatment.id if treatment is not None else None,
                kind=kind,
                area=area,
                note=(note or "").strip() or None,
                taken_at=at,
                consent_id=consent.id,
                consent_scope=consent.scope,
                width=photo.width,
                height=photo.height,
                sha256=photo.sha256,
                storage_key=key,
                thumb_key=thumb_key,
                taken_by_id=user.id,
            )
            db.session.add(row)
            photos.append(row)
        db.session.flush()
        for row in photos:
            audit(
                "photo.take",
                obj=row,
                client_id=client.id,
                detail={"kind": kind, "area": area, "treatment": row.treatment_id, "scope": consent.scope},
            )
        db.session.commit()
    except BaseException as exc:
        db.session.rollback()
        for key in written:  # files of rows never committed; `clinicadmin check` lists any left behind
            try:
                storage.remove(key)
            except Exception:
                current_app.logger.warning("could not remove the uncommitted photo file %s", key)
        if isinstance(exc, StorageError):
            raise PhotoProblem(f"The photo storage could not be written; nothing was stored. ({exc})") from None
        raise
    return photos


def archive_photo(photo, reason, user):
    """Archive ``photo`` once, with ``reason``; raises :class:`PhotoProblem` when the reason is empty or it was
    archived already (by then, nothing is written)."""
    if len(real_text(reason)) < 5:
        raise PhotoProblem("Write why the photo is archived (at least 5 characters).")
    if not change_once(
        photo,
        lambda c: (c.archived_at.is_(None),),
        archived_at=now(),
        archived_by_id=user.id,
        archive_reason=reason.strip()[:255],
    ):
        db.session.rollback()
        db.session.refresh(photo)
        raise PhotoProblem(f"This photo was already archived by {photo.archived_by} at {when(photo.archived_at)}.")
    audit("photo.archive", obj=photo, client_id=photo.client_id, detail={"reason": reason.strip()[:255]})
    db.session.commit()


def init_photo_uploads(app):
    """Let the photo upload's request body be as large as ``PHOTO_UPLOAD_MAX_BYTES``; every other request keeps
    ``MAX_CONTENT_LENGTH``. Registered before CSRF protection, which reads the body first."""

    @app.before_request
    def larger_body_for_photos():
        if request.endpoint == UPLOAD_ENDPOINT:
            request.max_content_length = int(app.config["PHOTO_UPLOAD_MAX_BYTES"])


def too_large_message():
    """What the 413 page says when the photo upload was larger than ``PHOTO_UPLOAD_MAX_BYTES``; None elsewhere."""
    if request.endpoint != UPLOAD_ENDPOINT:
        return None
    limit = int(current_app.config["PHOTO_UPLOAD_MAX_BYTES"]) / 1024 / 1024
    return f"The photos sent together are larger than {limit:.0f} MB; nothing was stored. Send fewer at once."
