"""Taking, reading and archiving clinical photos: each step one transaction, audited, and allowed only with the
client's photo consent. The files go to :mod:`clinicadmin.photo_storage`; what a file may be is
:mod:`clinicadmin.photo_images`'s to say."""

from dataclasses import dataclass

from flask import current_app, request

from .audit import audit
from .clock import local_today, now
from .extensions import db
from .input_policy import FORBIDDEN, real_text
from .models import Client, Photo, PhotoConsent
from .models.photos import PHOTO_KINDS
from .photo_images import PhotoRefused, clean
from .photo_storage import StorageError, new_key, photo_storage
from .plugins import registry
from .transitions import change_once, claim, refuse_if_claimed, when

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


def read_upload(file, max_bytes):
    """One sent file as an :class:`Upload`, reading at most ``max_bytes`` + 1 bytes of it: enough for
    :func:`~clinicadmin.photo_images.clean` to refuse a larger one without holding all of it in memory."""
    return Upload(file.filename or "", file.stream.read(max_bytes + 1))


def take_photos(*, client, uploads, kind, area, note, user, once, treatment=None):
    """Store ``uploads`` as photos of ``client`` (of ``treatment`` when given), all or none, once per form token
    ``once``; returns the new :class:`Photo` rows. Raises :class:`PhotoProblem` (nothing stored) without a valid
    photo consent, for an unknown kind or area, or when any file is refused, and
    :class:`~clinicadmin.transitions.AlreadyDone` when ``once`` was used already.

    Every file is cleaned and written to the storage (under new opaque keys) before anything is written to the
    database, so the slow part holds no database lock; then the token is claimed, the rows inserted and committed
    in one short transaction. If that fails, the files just written are removed again; a crash between the two
    leaves only files that no row names, which ``clinicadmin check`` lists."""
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
    refuse_if_claimed(once)  # a double submit is told so before its files are cleaned again
    client_id, consent_id, treatment_id = client.id, consent.id, treatment.id if treatment is not None else None
    db.session.commit()  # end the read transaction: nothing of the database is held while the files are cleaned
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
    written, keys = [], []
    try:
        for photo in cleaned:
            key, thumb_key = new_key()
            storage.put(key, photo.data)
            written.append(key)
            storage.put(thumb_key, photo.thumbnail)
            written.append(thumb_key)
            keys.append((key, thumb_key))
        return _insert_photos(
            client_id=client_id,
            consent_id=consent_id,
            treatment_id=treatment_id,
            cleaned=cleaned,
            keys=keys,
            kind=kind,
            area=area,
            note=note,
            user=user,
            once=once,
        )
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


def _insert_photos(*, client_id, consent_id, treatment_id, cleaned, keys, kind, area, note, user, once):
    """The one short writing transaction of an upload: claim the token, check again what may have changed while
    the files were cleaned (the client archived, the consent withdrawn), insert and audit the rows, commit."""
    claim(once, UPLOAD_ENDPOINT, user)
    client = db.session.get(Client, client_id)
    consent = db.session.get(PhotoConsent, consent_id)
    db.session.refresh(client)
    db.session.refresh(consent)
    if client.archived_at is not None:
        raise PhotoProblem("This client was archived meanwhile; no photo was stored.")
    if not consent.valid_on(local_today()):
        raise PhotoProblem("The photo consent was withdrawn meanwhile; no photo was stored.")
    at, photos = now(), []
    for photo, (key, thumb_key) in zip(cleaned, keys, strict=True):
        row = Photo(
            client_id=client_id,
            treatment_id=treatment_id,
            kind=kind,
            area=area,
            note=(note or "").strip() or None,
            taken_at=at,
            consent_id=consent_id,
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
            client_id=client_id,
            detail={"kind": kind, "area": area, "treatment": treatment_id, "scope": consent.scope},
        )
    db.session.commit()
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


def withdraw_consent(consent, withdrawn_on, reason, user):
    """Record once that ``consent`` was withdrawn on ``withdrawn_on``, with ``reason``, by ``user``: an UPDATE from
    no withdrawal, so a withdrawal is never changed or undone. Raises :class:`PhotoProblem` (nothing written) for a
    missing reason, a day in the future or before signing, or a consent withdrawn already."""
    reason = (reason or "").strip()
    if len(real_text(reason)) < 5:
        raise PhotoProblem("Write why the consent is withdrawn (at least 5 characters).")
    if withdrawn_on is None:
        raise PhotoProblem("Give the day the consent was withdrawn.")
    if withdrawn_on > local_today():
        raise PhotoProblem("The day of withdrawal cannot be in the future.")
    if withdrawn_on < consent.signed_on:
        raise PhotoProblem("The consent cannot be withdrawn before it was signed.")
    if not change_once(
        consent,
        lambda c: (c.withdrawn_on.is_(None),),
        withdrawn_on=withdrawn_on,
        withdrawn_at=now(),
        withdrawn_by_id=user.id,
        withdrawal_reason=reason[:255],
    ):
        db.session.rollback()
        db.session.refresh(consent)
        raise PhotoProblem(
            f"This consent was already withdrawn on {consent.withdrawn_on.isoformat()}"
            + (f", recorded by {consent.withdrawn_by} at {when(consent.withdrawn_at)}" if consent.withdrawn_at else "")
            + "; a withdrawal is never changed."
        )
    audit(
        "photo_consent.withdraw",
        obj=consent,
        client_id=consent.client_id,
        detail={"withdrawn_on": withdrawn_on.isoformat(), "reason": reason[:255]},
    )
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
