"""Clinical photos (practitioners, managers): a client's photos area by area in date order, taking them (upload or a
tablet's camera, several at once), two of them compared, each streamed only to a clinical role, without caching and
audited; and the photo consents the front desk records."""

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_security import current_user
from markupsafe import Markup
from wtforms import DateField, HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..audit import audit_read
from ..clock import local_today
from ..extensions import db
from ..forms import client_lookup
from ..input_policy import PolicyFlaskForm, policy_form_view
from ..models import Client, Photo, Treatment
from ..models.photos import PHOTO_KINDS, PHOTO_SCOPES
from ..photo_storage import StorageError, photo_storage
from ..photos import (
    PhotoProblem,
    archive_photo,
    area_choices,
    area_label,
    current_consent,
    read_upload,
    take_photos,
    withdraw_consent,
)
from ..roles import CLINICAL_ROLES, DESK_ROLES
from ..transitions import AlreadyDone
from .base import SecuredModelView, SecuredView, user_has_role
from .clients import AuditedClientViewMixin
from .once import OnceForm
from .validators import not_in_future

#: who may see archived clients' photos (the archived-clients list is theirs)
ARCHIVE_ROLES = ("admin", "manager")


class PhotoForm(OnceForm):
    """What goes with the photos sent (their files are the request's ``photos`` files, read by the view)."""

    treatment_id = HiddenField()
    kind = SelectField("Taken", choices=list(PHOTO_KINDS.items()), validators=[DataRequired()])
    area = SelectField("Area", validators=[DataRequired()], validate_choice=False)
    note = TextAreaField("Note", validators=[Length(max=500)])


class PhotoView(SecuredView):
    """``/admin/photos``: a client's photos, taking them, one photo, comparing two, and each file streamed."""

    allowed_roles = CLINICAL_ROLES

    def is_visible(self):
        return False  # opened from a client's record or a treatment

    def _client(self, client_id):
        client = db.session.get(Client, client_id or 0)
        if client is None or (client.archived_at is not None and not user_has_role(*ARCHIVE_ROLES)):
            abort(404)
        return client

    def _photo(self, photo_id):
        photo = db.session.get(Photo, photo_id)
        if photo is None:
            abort(404)
        self._client(photo.client_id)
        return photo

    @expose("/")
    def index(self):
        client = self._client(request.args.get("client_id", type=int))
        show_archived = request.args.get("archived") == "1"
        query = db.select(Photo).where(Photo.client_id == client.id)
        if not show_archived:
            query = query.where(Photo.archived_at.is_(None))
        photos = db.session.execute(query.order_by(Photo.area, Photo.taken_at, Photo.id)).scalars().all()
        by_area = {}
        for photo in photos:
            by_area.setdefault(photo.area, []).append(photo)
        audit_read(
            "photo.list", obj=client, client_id=client.id, detail={"photos": len(photos), "archived": show_archived}
        )
        return self.render(
            "admin/photos.html",
            client=client,
            by_area=sorted(by_area.items(), key=lambda item: area_label(item[0])),
            area_label=area_label,
            consent=current_consent(client),
            show_archived=show_archived,
        )

    @expose("/new", methods=("GET", "POST"))
    @policy_form_view
    def upload(self):
        client = self._client(request.values.get("client_id", type=int))
        treatment = None
        treatment_id = request.values.get("treatment_id", type=int)
        if treatment_id:
            treatment = db.session.get(Treatment, treatment_id)
            if treatment is None or treatment.client_id != client.id:
                abort(404)
        form = PhotoForm()
        form.area.choices = area_choices(treatment)
        consent = current_consent(client)
        if form.validate_on_submit():
            max_bytes = int(current_app.config["PHOTO_MAX_BYTES"])
            uploads = [read_upload(f, max_bytes) for f in request.files.getlist("photos")]
            try:
                photos = take_photos(
                    client=client,
                    uploads=uploads,
                    kind=form.kind.data,
                    area=form.area.data,
                    note=form.note.data,
                    user=current_user._get_current_object(),
                    treatment=treatment,
                    once=form.once.data,
                )
            except (PhotoProblem, AlreadyDone) as exc:
                db.session.rollback()
                flash(str(exc), "error")
            else:
                flash(f"{len(photos)} photo{'' if len(photos) == 1 else 's'} stored.", "success")
                return redirect(url_for(".index", client_id=client.id))
        elif request.method == "GET":
            audit_read("client.view", obj=client, client_id=client.id, detail={"form": "photos"})
        return self.render(
            "admin/photo_upload.html",
            client=client,
            treatment=treatment,
            form=form,
            consent=consent,
            accept="image/jpeg,image/png,image/heic,image/heif,.heic,.heif",
        )

    @expose("/<int:photo_id>")
    def show(self, photo_id):
        photo = self._photo(photo_id)
        audit_read("photo.view", obj=photo, client_id=photo.client_id)
        return self.render(
            "admin/photo_show.html",
            photo=photo,
            area_label=area_label,
            uses=[(label, photo.may_be_used_for(key)) for key, label in USES.items()],
        )

    def _stream(self, photo, key, what):
        try:
            data = photo_storage().get(key)
        except StorageError:
            abort(404)
        audit_read(f"photo.{what}", obj=photo, client_id=photo.client_id)
        response = Response(data, mimetype="image/jpeg")
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Disposition"] = f'inline; filename="photo-{photo.id}.jpg"'
        return response

    @expose("/<int:photo_id>/image")
    def image(self, photo_id):
        photo = self._photo(photo_id)
        return self._stream(photo, photo.storage_key, "image")

    @expose("/<int:photo_id>/thumbnail")
    def thumbnail(self, photo_id):
        photo = self._photo(photo_id)
        return self._stream(photo, photo.thumb_key, "thumbnail")

    @expose("/compare")
    def compare(self):
        chosen = request.args.getlist("photo", type=int)
        if len(chosen) != 2 or chosen[0] == chosen[1]:
            client_id = request.args.get("client_id", type=int)
            flash("Choose two photos to compare.", "error")
            if client_id:
                return redirect(url_for(".index", client_id=client_id))
            abort(400, description="Choose two photos to compare.")
        first, second = sorted((self._photo(p) for p in chosen), key=lambda p: (p.taken_at, p.id))
        if first.client_id != second.client_id:
            abort(400, description="The two photos are of different clients.")
        mode = "slider" if request.args.get("mode") == "slider" else "side"
        audit_read(
            "photo.compare", obj=first.client, client_id=first.client_id, detail={"photos": [first.id, second.id]}
        )
        return self.render("admin/photo_compare.html", first=first, second=second, mode=mode, area_label=area_label)

    @expose("/<int:photo_id>/archive", methods=("POST",))
    def archive(self, photo_id):
        photo = self._photo(photo_id)
        try:
            archive_photo(photo, request.form.get("reason", ""), current_user._get_current_object())
        except PhotoProblem as exc:
            flash(f"Nothing was changed: {exc}", "error")
        else:
            flash("Photo archived: it stays on record and leaves the client's photos.", "success")
        return redirect(url_for(".show", photo_id=photo.id))


#: the uses a photo may be put to, each needing the consent scope of the same key
USES = {"clinical": "The clinical record", "teaching": "Teaching", "marketing": "Marketing"}


class WithdrawForm(PolicyFlaskForm):
    """The day a photo consent was withdrawn and why."""

    withdrawn_on = DateField("Withdrawn on", validators=[DataRequired()])
    reason = TextAreaField("Why (as the client said or wrote it)", validators=[DataRequired(), Length(max=255)])


def _withdrawal(view, context, model, name):
    if model.withdrawn_on is not None:
        by = f" (recorded by {model.withdrawn_by}: {model.withdrawal_reason})" if model.withdrawn_by else ""
        return f"{model.withdrawn_on.isoformat()}{by}"
    if not view.can_withdraw:
        return ""
    return Markup('<a class="btn btn-sm btn-outline-danger" href="{}">Record its withdrawal</a>').format(
        url_for(".withdraw", id=model.id)
    )


class PhotoConsentView(AuditedClientViewMixin, SecuredModelView):
    """Photo consents: the front desk records the signed form with its scope. Once recorded, its client, scope and
    signing day never change (nobody edits it: a mistake is a new consent); its withdrawal is recorded once, with a
    day and a reason, and never undone. Never deleted."""

    allowed_roles = create_roles = withdraw_roles = DESK_ROLES
    edit_roles = ()
    audit_prefix = "photo_consent"
    belongs_to_client = True
    column_list = ("client", "scope", "signed_on", "withdrawn_on")
    column_details_list = ("client", "scope", "signed_on", "withdrawn_on", "recorded_by", "recorded_at")
    column_labels = {"scope": "Photos may be used for"}
    column_formatters = {"scope": lambda v, c, m, n: m.scope_label}
    column_formatters_detail = {**column_formatters, "withdrawn_on": _withdrawal}
    # Newest recorded first, by the primary key: a chain's consents are many, and every list sort needs an index.
    column_sortable_list = ()
    column_default_sort = ("id", True)
    form_columns = ("client", "scope", "signed_on")
    form_overrides = {"scope": SelectField}
    form_args = {
        "scope": {"choices": list(PHOTO_SCOPES.items()), "validators": [DataRequired()]},
        "signed_on": {"validators": [DataRequired(), not_in_future]},
    }

    @property
    def can_withdraw(self):
        return user_has_role(*self.withdraw_roles)

    @property
    def form_ajax_refs(self):
        return {"client": client_lookup()}

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        """Refused, whoever asks: nothing of a recorded photo consent is edited."""
        flash(
            "Nothing was changed: a photo consent's client, scope and signing day cannot be changed once recorded "
            "(record a new consent instead), and a withdrawal is recorded once, with “Record its withdrawal”.",
            "error",
        )
        consent = self.get_one(request.args.get("id", type=int) or 0)
        return redirect(url_for(".details_view", id=consent.id) if consent is not None else url_for(".index_view"))

    @expose("/withdraw/", methods=("GET", "POST"))
    @policy_form_view
    def withdraw(self):
        self._refuse_unless(self.can_withdraw)
        consent = self.get_one(request.args.get("id", type=int) or 0)
        if consent is None:
            abort(404)
        form = WithdrawForm()
        if form.validate_on_submit():
            try:
                withdraw_consent(consent, form.withdrawn_on.data, form.reason.data, current_user._get_current_object())
            except PhotoProblem as exc:
                flash(f"Nothing was changed: {exc}", "error")
            else:
                flash("The photo consent's withdrawal is recorded; it cannot be undone.", "success")
                return redirect(url_for(".details_view", id=consent.id))
        elif request.method == "GET":
            form.withdrawn_on.data = local_today()
            audit_read("photo_consent.view", obj=consent, client_id=consent.client_id, detail={"form": "withdraw"})
        return self.render("admin/photo_consent_withdraw.html", consent=consent, form=form)

    def create_form(self, obj=None):
        form = super().create_form(obj)
        if request.method == "GET":
            client = db.session.get(Client, request.args.get("client_id", type=int) or 0)
            if client is not None and client.archived_at is None:
                form.client.data = client
                form.signed_on.data = local_today()
                audit_read("client.view", obj=client, client_id=client.id, detail={"form": "photo consent"})
        return form

    def on_model_change(self, form, model, is_created):
        from wtforms import ValidationError

        if not is_created:  # no edit form is offered; refuse any other way in
            raise ValidationError("A photo consent cannot be changed once recorded.")
        if model.client is None:
            raise ValidationError("Choose the client.")
        model.recorded_by = current_user._get_current_object()
        super().on_model_change(form, model, is_created)
