"""Treatments: the schedule list, and the desk where a treatment is booked, screened, recorded and printed."""

import logging
from datetime import datetime, timedelta

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_security import current_user
from markupsafe import Markup

from ..audit import audit_read
from ..booking_window import recording_window_problem
from ..certified import certified_for, certified_ids, not_certified, practitioners
from ..clinic_settings import effective_settings
from ..clock import from_local, local, local_today, now, shown
from ..diagrams import form_diagrams, record_diagrams, screening_marks
from ..extensions import db
from ..find_time import openings
from ..input_policy import policy_form_view, real_text
from ..models import Client, Course, Location, Resource, ScreeningFinding, Treatment, User
from ..plugins import each_implementation, registry
from ..roles import CLINICAL_ROLES
from ..roles import DESK_ROLES as BOOKING_ROLES
from ..stock import usable_lots
from ..stock_exceptions import owed_by
from ..transitions import AlreadyDone, claim
from ..treatment_flow import (
    CANCELLED_BY,
    TreatmentRejected,
    acknowledge,
    archive,
    archive_many,
    attendance,
    book,
    cancel,
    mark_no_show,
    override,
    record,
    reschedule,
    rescreen,
    why_not_booked,
)
from .archiving import ArchiveListActionMixin, ArchiveRefused
from .base import SecuredModelView, SecuredView, acting_roles, serve_lookup, user_has_role
from .keyset import KeysetPagerMixin
from .treatment_forms import (
    BookForm,
    FindTimeForm,
    PluginFormError,
    RescheduleForm,
    book_form_class,
    chosen_lot_ids,
    details_for_display,
    details_from_form,
    fill_details,
    fill_lot_choices,
    record_form_class,
)

log = logging.getLogger(__name__)


def _modality(view, context, model, name):
    return registry().modality_label(model.modality)


def _open_link(view, context, model, name):
    return Markup('<a href="{}">{}</a>').format(
        url_for("treatment_desk.show", treatment_id=model.id), shown(model.scheduled_at, model.location)
    )


class TreatmentListView(ArchiveListActionMixin, KeysetPagerMixin, SecuredModelView):
    """The schedule: every treatment, newest first; open one to screen, record or print it. Managers may archive
    treatments entered in error, several at once."""

    allowed_roles = BOOKING_ROLES
    can_view_details = False
    column_list: tuple[str, ...] = (
        "scheduled_at",
        "client",
        "modality",
        "practitioner",
        "location",
        "status",
        "screening_status",
    )
    column_labels = {"scheduled_at": "When", "screening_status": "Screening"}
    column_filters: tuple[str, ...] = (
        "modality",
        "status",
        "screening_status",
        "scheduled_at",
        "practitioner.email",
        "location.name",
    )
    column_sortable_list = ("scheduled_at",)
    column_default_sort = ("scheduled_at", True)
    column_formatters = {"modality": _modality, "scheduled_at": _open_link}

    archived = False

    def _scoped(self, query):
        # Archived clients are few: leaving out their ids is one small lookup, where a join would probe the client
        # of every row the database walks past (a deep page walks past thousands).
        archived_clients = db.select(Client.id).where(Client.archived_at.is_not(None))
        query = query.filter(Treatment.client_id.not_in(archived_clients))
        return query.filter(Treatment.archived_at.is_not(None) if self.archived else Treatment.archived_at.is_(None))

    def get_query(self):
        return self._scoped(super().get_query())

    def get_count_query(self):
        return self._scoped(super().get_count_query())

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        audit_read(
            "treatment.list",
            object_type="Treatment",
            detail={
                "page": request.args.get("page"),
                "cursor": request.args.get("after") or request.args.get("before"),
                "archived": self.archived,
            },
        )
        return count, rows

    archive_noun = "treatment"
    archive_explanation = (
        "Archive treatments entered in error: they leave the schedule, counts and reports, and stay "
        "on record with their stock movements; managers find them under Archived treatments."
    )

    def archive_label(self, treatment):
        when = shown(treatment.scheduled_at, treatment.location)
        return f"{registry().modality_label(treatment.modality)} for {treatment.client} on {when}"

    def archive_records(self, treatments, reason):
        try:
            archive_many(treatments, user=current_user._get_current_object(), reason=reason)
        except TreatmentRejected as exc:
            db.session.rollback()
            raise ArchiveRefused(str(exc)) from exc


class ArchivedTreatmentView(TreatmentListView):
    """Treatments archived as entered in error: for managers, with who archived them, when and why."""

    allowed_roles = ("admin", "manager")
    archived = True
    column_list = ("scheduled_at", "client", "modality", "status", "archived_at", "archived_by", "archive_reason")
    column_filters = ("modality", "archived_at")
    column_sortable_list = ("archived_at",)
    column_default_sort = ("archived_at", True)

    def is_action_allowed(self, name):
        return False


def _active_locations():
    return [
        (loc.id, loc.name)
        for loc in db.session.execute(
            db.select(Location).where(Location.active.is_(True)).order_by(Location.name)
        ).scalars()
    ]


def _practitioner_choices(modality, day):
    """The practitioner select: when the modality is known, only those certified for it on ``day``; otherwise
    everyone, each with the modalities they are certified for on ``day``. The first choice is "nobody yet"."""
    people = practitioners()
    if modality:
        allowed = certified_ids(modality, day)
        choices = [(u.id, str(u)) for u in people if u.id in allowed]
    else:
        held, label = certified_for(day), registry().modality_label
        choices = [
            (
                u.id,
                f"{u} ({', '.join(label(k) for k in held[u.id])})"
                if held.get(u.id)
                else f"{u} (no valid certification)",
            )
            for u in people
        ]
    return [("", "Choose a practitioner")] + choices


def _resources():
    query = (
        db.select(Resource, Location.name)
        .join(Location, Location.id == Resource.location_id)
        .where(Resource.active.is_(True), Location.active.is_(True))
        .order_by(Location.name, Resource.name)
    )
    label = registry().resource_kind_label
    return [(r.id, f"{r.name} ({label(r.kind)}, {where})") for r, where in db.session.execute(query)]


class TreatmentDeskView(SecuredView):
    """Book a treatment, see its screening, acknowledge or override findings, record it, print its aftercare."""

    allowed_roles = BOOKING_ROLES

    def _treatment(self, treatment_id):
        """The treatment, if its client is active; an archived treatment is shown to managers only."""
        treatment = db.session.get(Treatment, treatment_id)
        if treatment is None or treatment.client.archived_at is not None:
            abort(404)
        if treatment.archived_at is not None and not user_has_role("admin", "manager"):
            abort(404)
        return treatment

    @expose("/", methods=("GET", "POST"))
    @policy_form_view
    def index(self):
        """The menu's "Book a treatment": the booking form itself."""
        return self.book()

    @expose("/ajax/lookup/")
    def ajax_lookup(self):
        return serve_lookup()

    @expose("/book", methods=("GET", "POST"))
    @policy_form_view
    def book(self):
        """The booking form. Practitioners are offered, preselected and accepted only when certified for the chosen
        modality on the booking's day; "Show certified practitioners" narrows the list without booking (no script
        needed). An appointment book's empty slot fills in the practitioner, location and time."""
        reg = registry()
        # The chosen modality's booking fields are part of the form: the posted modality's, or the one to preselect.
        wanted = request.form.get("modality") if request.method == "POST" else _preselected(request.args)
        wanted = wanted if wanted in reg.modalities else None
        try:
            form = book_form_class(wanted)()
            form_failed = None
        except PluginFormError as exc:  # its plugin cannot ask its questions: nothing is booked for that modality
            form, form_failed = BookForm(), str(exc)
        form.modality.choices = [("", "Choose a modality")] + reg.modality_choices()
        form.location.choices = _active_locations()
        # Every practitioner is a valid answer to the select itself; certification is checked below, in words.
        form.practitioner.choices = [("", "")] + [(u.id, str(u)) for u in practitioners()]
        course = None
        form.resources.choices = _resources()
        if not user_has_role("admin", "manager"):
            del form.confirm_outside_hours  # a manager's confirmation: nobody else is offered it
        if request.method == "GET":
            if current_user.location_id:
                form.location.data = current_user.location_id
            if request.args.get("modality") in reg.modalities:
                form.modality.data = request.args["modality"]
            _prefill(form, request.args)  # an empty slot of the appointment book
            if form.scheduled_at.data is None:
                here = db.session.get(Location, form.location.data) if form.location.data else None
                form.scheduled_at.data = (local(now(), here) + timedelta(hours=1)).replace(
                    minute=0, second=0, microsecond=0, tzinfo=None
                )
            if request.args.get("client_id"):  # "Book a treatment" from a client's record
                form.client.data = form.client.loader.get_one(request.args["client_id"])
                if form.client.data is not None:
                    audit_read(
                        "client.view", obj=form.client.data, client_id=form.client.data.id, detail={"form": "book"}
                    )
            course = _course(request.args.get("course_id"))
            if course is not None and form.client.data is course.client:  # "Book next session" of a course
                form.course.data, form.modality.data = str(course.id), course.modality
        modality = form.modality.data if form.modality.data in reg.modalities else None
        here = db.session.get(Location, form.location.data) if isinstance(form.location.data, int) else None
        day = (form.scheduled_at.data or local(now(), here)).date()  # the wall-clock day at the location
        if (
            request.method == "GET"
            and not form.practitioner.data
            and "practitioner" in acting_roles()
            and (
                current_user.id in certified_ids(modality, day) if modality else certified_for(day).get(current_user.id)
            )
        ):
            form.practitioner.data = current_user.id
        course = _course(form.course.data)
        if form_failed:
            form.modality.errors = [*form.modality.errors, form_failed]
            form.practitioner.choices = _practitioner_choices(modality, day)
            return self._book_page(form, course, modality, day)
        if request.method == "POST" and request.form.get("refresh"):
            form.practitioner.choices = _practitioner_choices(modality, day)
            if modality and form.practitioner.data not in certified_ids(modality, day):
                form.practitioner.data = None
            return self._book_page(form, course, modality, day)
        if request.method == "POST" and "details" in form and form.questions_for.data != wanted:
            # Its questions were not on the page the desk filled in (the modality was changed without reloading):
            # show them rather than store them unanswered.
            form.modality.errors = [f"Answer the questions for {reg.modality_label(wanted)} before booking."]
            form.practitioner.choices = _practitioner_choices(modality, day)
            return self._book_page(form, course, modality, day)
        if form.validate_on_submit() and (scheduled_at := _instant(form.scheduled_at, form.location.data)):
            practitioner = db.session.get(User, form.practitioner.data)
            problem = not_certified(practitioner, form.modality.data, form.scheduled_at.data.date())
            if problem:
                form.practitioner.errors = [*form.practitioner.errors, problem]
                form.practitioner.data = None
                form.practitioner.choices = _practitioner_choices(modality, day)
                return self._book_page(form, course, modality, day)
            try:
                claim(form.once.data, "treatment.book", current_user)
                treatment = book(
                    client=form.client.data,
                    modality=form.modality.data,
                    practitioner=practitioner,
                    location=db.session.get(Location, form.location.data),
                    scheduled_at=scheduled_at,
                    notes=form.notes.data or None,
                    user=current_user._get_current_object(),
                    course=course,
                    duration_minutes=form.duration_minutes.data,
                    resources=[db.session.get(Resource, i) for i in form.resources.data or ()],
                    confirm_outside_hours="confirm_outside_hours" in form and form.confirm_outside_hours.data,
                    details=details_from_form(form.details.form) if "details" in form else None,
                )
            except AlreadyDone as exc:
                flash(str(exc), "warning")
                return redirect(url_for("treatment.index_view"))
            except TreatmentRejected as exc:
                db.session.rollback()
                form.modality.errors = [*form.modality.errors, *exc.messages]
            else:
                flash(
                    f"Booked. Screening: {treatment.screening_status}.",
                    "success" if treatment.screening_status == "clear" else "warning",
                )
                return redirect(url_for(".show", treatment_id=treatment.id))
        form.practitioner.choices = _practitioner_choices(modality, day)
        return self._book_page(form, course, modality, day)

    def _book_page(self, form, course, modality, day):
        nobody = modality is not None and len(form.practitioner.choices) == 1
        # The page shows the questions of the modality the form was built for (the posted or preselected one).
        form.questions_for.data = _details_modality(form)
        return self.render(
            "admin/treatment_book.html",
            form=form,
            course=course,
            modality_label=registry().modality_label,
            modality=modality,
            day=day,
            nobody=nobody,
        )

    @expose("/<int:treatment_id>")
    def show(self, treatment_id):
        treatment = self._treatment(treatment_id)
        clinical = user_has_role(*CLINICAL_ROLES)
        audit_read("treatment.view", obj=treatment, client_id=treatment.client_id)
        return self.render(
            "admin/treatment_show.html",
            treatment=treatment,
            clinical=clinical,
            modality_label=registry().modality_label(treatment.modality),
            details=details_for_display(treatment) if clinical else [],
            diagrams=record_diagrams(treatment) if clinical else [],
            plugin_loaded=treatment.modality in registry().modalities,
            findings=treatment.current_findings() if clinical else [],
            earlier_runs=_earlier_runs(treatment) if clinical else [],
            can_override=user_has_role("admin", "manager"),
            can_record=clinical and treatment.status == "booked" and treatment.modality in registry().modalities,
            attendance=attendance(treatment.client_id),
            cancelled_by=CANCELLED_BY,
            has_begun=now() >= treatment.scheduled_at,
            owed=owed_by(treatment) if treatment.status == "performed" else [],
        )

    @expose("/<int:treatment_id>/screen", methods=("POST",))
    def screen_again(self, treatment_id):
        treatment = self._treatment(treatment_id)
        if not user_has_role(*CLINICAL_ROLES):
            flash("Only a practitioner or manager can run screening again.", "error")
        else:
            try:
                rescreen(treatment)
                flash(f"Screened again: {treatment.screening_status}.", "info")
            except TreatmentRejected as exc:
                db.session.rollback()
                flash(" ".join(exc.messages), "error")
        return redirect(url_for(".show", treatment_id=treatment_id))

    def _finding(self, treatment_id):
        finding = db.session.get(ScreeningFinding, request.form.get("finding_id", type=int) or 0)
        if finding is None or finding.treatment_id != treatment_id:
            abort(404)
        return finding

    def _step(self, treatment_id, step, done):
        """Run one step of the treatment flow (it commits), flash ``done`` or why it was refused, and go back to
        the treatment's page."""
        try:
            step()
            flash(done, "success")
        except TreatmentRejected as exc:
            db.session.rollback()
            flash(" ".join(exc.messages), "error")
        return redirect(url_for(".show", treatment_id=treatment_id))

    def _text(self, name, limit):
        """The posted text, cut to ``limit``; text with nothing visible in it counts as none (and is refused)."""
        text = request.form.get(name, "")[:limit]
        return text if real_text(text) else ""

    @expose("/<int:treatment_id>/acknowledge", methods=("POST",))
    def acknowledge(self, treatment_id):
        self._treatment(treatment_id)
        finding = self._finding(treatment_id)
        return self._step(
            treatment_id,
            lambda: acknowledge(finding, user=current_user._get_current_object(), note=self._text("note", 1000)),
            "Warning acknowledged.",
        )

    @expose("/<int:treatment_id>/override", methods=("POST",))
    def override(self, treatment_id):
        self._treatment(treatment_id)
        finding = self._finding(treatment_id)
        return self._step(
            treatment_id,
            lambda: override(finding, user=current_user._get_current_object(), reason=self._text("reason", 1000)),
            "Finding overridden; the override and its reason are on record.",
        )

    @expose("/<int:treatment_id>/archive", methods=("POST",))
    def archive(self, treatment_id):
        treatment = self._treatment(treatment_id)
        return self._step(
            treatment_id,
            lambda: archive(treatment, user=current_user._get_current_object(), reason=self._text("reason", 255)),
            "Treatment archived; it stays on record and in the audit log.",
        )

    @expose("/<int:treatment_id>/cancel", methods=("POST",))
    def cancel(self, treatment_id):
        treatment = self._treatment(treatment_id)
        return self._step(
            treatment_id,
            lambda: cancel(
                treatment,
                reason=self._text("reason", 255),
                by=request.form.get("by", ""),
                user=current_user._get_current_object(),
            ),
            "Booking cancelled; it stays on record.",
        )

    @expose("/find")
    def find_time(self):
        """Find a time: the next openings for a client and a modality (certified practitioner, rooms and devices,
        the client free, within hours, the course's interval kept), each a link to the booking form filled in."""
        form = FindTimeForm(request.args)
        reg = registry()
        form.modality.choices = [("", "Choose a modality")] + reg.modality_choices()
        form.location.choices = _active_locations()
        if not request.args.get("location") and current_user.location_id:
            form.location.data = current_user.location_id
        if request.args.get("client_id") and not request.args.get("client"):
            form.client.data = form.client.loader.get_one(request.args["client_id"])
        found, searched = [], False
        course = _course(request.args.get("course_id"))
        if request.args.get("client") and form.validate() and form.modality.data in reg.modalities:
            location = db.session.get(Location, form.location.data)
            client = form.client.data
            if course is not None and (course.client_id != client.id or course.modality != form.modality.data):
                course = None
            found = openings(
                client, form.modality.data, locations=[location], first_day=form.first_day.data, course=course
            )
            searched = True
            audit_read(
                "client.view",
                obj=client,
                client_id=client.id,
                detail={"form": "find a time", "modality": form.modality.data, "openings": len(found)},
            )
        return self.render(
            "admin/find_time.html",
            form=form,
            found=found,
            searched=searched,
            course=course,
            modality_label=reg.modality_label,
            resource_label=reg.resource_kind_label,
        )

    @expose("/<int:treatment_id>/move", methods=("GET", "POST"))
    @policy_form_view
    def reschedule(self, treatment_id):
        """Move a booking to another time, practitioner or location: from this form, or dragged on the calendar."""
        treatment = self._treatment(treatment_id)
        back = _local_path(request.values.get("next")) or url_for(".show", treatment_id=treatment_id)
        if treatment.status != "booked" or treatment.archived_at is not None:
            flash(why_not_booked(treatment), "error")
            return redirect(back)
        form = RescheduleForm()
        form.practitioner.choices = [(u.id, str(u)) for u in practitioners()]
        form.location.choices = _active_locations()
        if not user_has_role("admin", "manager"):
            del form.confirm_outside_hours  # a manager's confirmation: nobody else is offered it
        if request.method == "GET":
            form.scheduled_at.data = local(treatment.scheduled_at, treatment.location).replace(tzinfo=None)
            form.practitioner.data, form.location.data = treatment.practitioner_id, treatment.location_id
            form.expected_at.data = treatment.scheduled_at.isoformat()
        elif form.validate_on_submit() and (scheduled_at := _instant(form.scheduled_at, form.location.data)):
            practitioner = db.session.get(User, form.practitioner.data)
            try:
                # The same scope-of-practice rule as the booking form: on the day it moves to, with whom it moves to.
                if problem := not_certified(practitioner, treatment.modality, form.scheduled_at.data.date()):
                    raise TreatmentRejected(problem)
                reschedule(
                    treatment,
                    scheduled_at=scheduled_at,
                    practitioner=practitioner,
                    location=db.session.get(Location, form.location.data),
                    user=current_user._get_current_object(),
                    reason=form.reason.data,
                    expected_at=_expected(form.expected_at.data),
                    resources=_resource(form.resource.data),
                    confirm_outside_hours=bool(
                        getattr(form, "confirm_outside_hours", None) and form.confirm_outside_hours.data
                    ),
                )
            except TreatmentRejected as exc:
                db.session.rollback()
                if request.form.get("next"):  # from the calendar: say why there
                    flash(" ".join(exc.messages), "error")
                    return redirect(back)
                form.scheduled_at.errors = [*form.scheduled_at.errors, *exc.messages]
            else:
                treatment = self._treatment(treatment_id)
                flash(
                    f"Moved to {shown(treatment.scheduled_at, treatment.location)} with {treatment.practitioner} "
                    f"at {treatment.location}. Screening: {treatment.screening_status}.",
                    "success" if treatment.screening_status == "clear" else "warning",
                )
                return redirect(back)
        elif request.form.get("next"):
            flash(
                "The booking was not moved: "
                + "; ".join(f"{form[name].label.text}: {' '.join(errors)}" for name, errors in form.errors.items()),
                "error",
            )
            return redirect(back)
        return self.render(
            "admin/treatment_move.html",
            form=form,
            treatment=treatment,
            modality_label=registry().modality_label(treatment.modality),
        )

    @expose("/<int:treatment_id>/no-show", methods=("POST",))
    def no_show(self, treatment_id):
        treatment = self._treatment(treatment_id)
        return self._step(
            treatment_id,
            lambda: mark_no_show(treatment, note=self._text("note", 255), user=current_user._get_current_object()),
            "Marked as a no-show; it counts on the client's record.",
        )

    @expose("/<int:treatment_id>/record", methods=("GET", "POST"))
    @policy_form_view
    def record(self, treatment_id):
        treatment = self._treatment(treatment_id)
        if not user_has_role(*CLINICAL_ROLES):
            flash("Only a practitioner or manager records a treatment.", "error")
            return redirect(url_for(".show", treatment_id=treatment_id))
        if treatment.status != "booked":
            flash(why_not_booked(treatment), "error")
            return redirect(url_for(".show", treatment_id=treatment_id))
        if treatment.modality not in registry().modalities:
            flash(f"No loaded plugin provides {treatment.modality!r}: it cannot be recorded.", "error")
            return redirect(url_for(".show", treatment_id=treatment_id))
        try:
            form = record_form_class(treatment.modality)()
            fill_lot_choices(form, treatment.modality, usable_lots(treatment.location, local_today(treatment.location)))
        except PluginFormError as exc:  # fails closed: without its plugin's form the session is not recorded
            flash(str(exc), "error")
            return redirect(url_for(".show", treatment_id=treatment_id))
        if request.method == "GET":
            audit_read("treatment.view", obj=treatment, client_id=treatment.client_id, detail={"form": "record"})
            form.performed_at.data = local(now(), treatment.location).replace(second=0, microsecond=0, tzinfo=None)
            form.notes.data = treatment.notes
            fill_details(form.details.form, treatment.details)  # what was asked at booking, pre-filled
        rejected = []
        if form.validate_on_submit() and (performed_at := _instant(form.performed_at, treatment.location)):
            problem = recording_window_problem(treatment.scheduled_at, performed_at)
            if problem:
                form.performed_at.errors = [problem]
            else:
                try:
                    exceptions = record(
                        treatment,
                        details=details_from_form(form.details.form),
                        performed_at=performed_at,
                        notes=form.notes.data or None,
                        user=current_user._get_current_object(),
                        acknowledgement_note=form.acknowledgement_note.data,
                        lots=chosen_lot_ids(form),
                    )
                except TreatmentRejected as exc:
                    rejected = exc.messages
                    treatment = self._treatment(treatment_id)
                    try:
                        fill_lot_choices(
                            form, treatment.modality, usable_lots(treatment.location, local_today(treatment.location))
                        )
                    except PluginFormError as exc:
                        flash(str(exc), "error")
                        return redirect(url_for(".show", treatment_id=treatment_id))
                else:
                    flash("Treatment recorded; stock was deducted.", "success")
                    for exception in exceptions:
                        flash(
                            f"Stock on file was short: {exception.quantity.normalize():f} {exception.product.unit}"
                            f" of {exception.product.name} used is a stock exception for the stock clerk to "
                            "resolve. The treatment and its notes are recorded.",
                            "warning",
                        )
                    return redirect(url_for(".show", treatment_id=treatment_id))
        marks, marks_failed = screening_marks(treatment)
        return self.render(
            "admin/treatment_record.html",
            form=form,
            treatment=treatment,
            rejected=rejected,
            diagrams=form_diagrams(treatment, form.details.form, marks),
            marks_failed=marks_failed,
            modality_label=registry().modality_label(treatment.modality),
            client_fields=registry().client_field_items(treatment.client.plugin_fields),
            findings=treatment.current_findings(),
        )

    @expose("/<int:treatment_id>/aftercare")
    def aftercare(self, treatment_id):
        treatment = self._treatment(treatment_id)
        instructions, failed = aftercare_for(treatment)
        if failed is None:
            audit_read("treatment.aftercare", obj=treatment, client_id=treatment.client_id)
        page = self.render(
            "admin/aftercare.html",
            treatment=treatment,
            instructions=instructions,
            failed=failed,
            modality_label=registry().modality_label(treatment.modality),
        )
        return (page, 500) if failed else page


def aftercare_for(treatment):
    """(instructions, None) from the first plugin that answers ``aftercare``, in pluggy's calling order; or
    ([], "<plugin> (<error>)") when a plugin fails or answers with something other than a list of text, so the page
    names the plugin instead of failing as a whole."""
    for name, answer, error in each_implementation(
        registry().pm, "aftercare", treatment=treatment, settings=effective_settings()
    ):
        try:
            if error is not None:
                raise error
            if answer is None:
                continue
            if isinstance(answer, str) or not all(isinstance(line, str) for line in answer):
                raise TypeError(f"returned {answer!r}, not a list of text")
            return list(answer), None
        except Exception as exc:
            log.error("aftercare plugin %s failed", name, exc_info=exc)
            return [], f"{name} ({type(exc).__name__})"
    return [], None


def _prefill(form, args):
    """Fill the booking form from an appointment book's empty slot: ``practitioner``, ``location``, ``at`` (the
    location's wall-clock time, ``YYYY-MM-DDTHH:MM``); anything unreadable is left as it was."""
    for name in ("practitioner", "location"):
        value = args.get(name, type=int)
        if value is not None and value in {key for key, _ in getattr(form, name).choices}:
            getattr(form, name).data = value
    resource = args.get("resource", type=int)
    if resource is not None and hasattr(form, "resources") and resource in {k for k, _ in form.resources.choices}:
        form.resources.data = [resource]
    if args.get("at"):
        try:
            form.scheduled_at.data = datetime.strptime(args["at"], "%Y-%m-%dT%H:%M")  # noqa: DTZ007 - a wall time
        except ValueError:
            pass


def _expected(text):
    """The instant a calendar page showed a booking at (ISO with its offset), or None."""
    try:
        moment = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def _local_path(target):
    """``target`` when it is a path on this site (a calendar page to go back to), else None."""
    # Browsers drop tabs and line breaks from a URL ("/\t/evil" is "//evil", another site) and a line break cannot
    # be sent in a header at all: a path with any control character or space is not one of ours.
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(c <= " " or c == "\x7f" for c in target)
    ):
        return target
    return None


def _instant(field, location):
    """The UTC instant of the wall-clock time in ``field`` at ``location`` (a Location or its id); None, with the
    field's error set, for a time that does not exist there (the hour the clocks skip)."""
    try:
        return from_local(field.data, location)
    except ValueError as exc:
        field.errors = [*field.errors, str(exc)]
        return None


def _resource(resource_id):
    """[the room or device with that id] (text from a calendar's room column), or [] when there is none."""
    try:
        found = db.session.get(Resource, int(resource_id)) if resource_id else None
    except ValueError:
        return []
    return [found] if found is not None else []


def _preselected(args):
    """The modality a booking form opened with ``args`` preselects: a course's (when the course is the client's, as
    "Book next session" links it), else ``modality``."""
    course = _course(args.get("course_id"))
    if course is not None and course.client_id == args.get("client_id", type=int):
        return course.modality
    return args.get("modality")


def _details_modality(form):
    """The modality whose booking questions ``form`` carries, or "" when it carries none."""
    return getattr(type(form), "questions_of", "") if "details" in form else ""


def _course(course_id):
    """The course with that id (text from a form or URL), or None."""
    try:
        return db.session.get(Course, int(course_id)) if course_id else None
    except ValueError:
        return None


def _earlier_runs(treatment):
    """[(run, findings)] of the screening runs before the latest one that found something, newest first."""
    runs = {}
    for f in treatment.findings:
        if f.run != treatment.screening_run:
            runs.setdefault(f.run, []).append(f)
    return sorted(runs.items(), reverse=True)
