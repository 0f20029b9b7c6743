"""Paper for the client: a consent form per modality to print and sign, and a client's treatment history for a date
range (what was done, by whom, with which lots). Both are printable pages, and both are audited."""

import functools

from flask import abort, request
from flask_admin import expose
from sqlalchemy.orm import joinedload

from ..audit import audit_read
from ..clinic_settings import effective_settings
from ..clock import day_bounds, local_today
from ..default_plugins.photos import HISTORY_SETTING
from ..diagrams import record_diagrams
from ..extensions import db
from ..models import Client, Photo, Product, StockLot, StockMovement, Treatment
from ..photos import area_label
from ..plugins import registry
from ..reporting import date_range
from ..roles import CLINICAL_ROLES, DESK_ROLES
from .base import SecuredView
from .treatment_forms import details_for_display


def _active_client(client_id):
    client = db.session.get(Client, client_id) if client_id is not None else None
    if client_id is not None and (client is None or client.archived_at is not None):
        abort(404)
    return client


class ConsentFormView(SecuredView):
    """A modality's consent form, with the client's name when one is given, for signature; then recorded as signed."""

    allowed_roles = DESK_ROLES

    @expose("/")
    def index(self):
        return self.render(
            "admin/consent_forms.html",
            modalities=registry().modality_choices(),
            client=_active_client(request.args.get("client_id", type=int)),
        )

    @expose("/<modality>")
    def show(self, modality):
        found = registry().modalities.get(modality)
        if found is None:
            abort(404)
        client = _active_client(request.args.get("client_id", type=int))
        if client is not None:
            audit_read(
                "consent_form.print",
                object_type="Client",
                object_id=str(client.id),
                client_id=client.id,
                detail={"modality": modality},
            )
        paragraphs = [p.strip() for p in (found.consent_text or "").split("\n\n") if p.strip()]
        return self.render(
            "admin/consent_form.html", modality=found, client=client, paragraphs=paragraphs, today=local_today()
        )


def lots_used(treatment_ids):
    """{treatment id: ["Product (lot L1)", ...]} for the stock each treatment consumed, in one query."""
    if not treatment_ids:
        return {}
    rows = db.session.execute(
        db.select(StockMovement.treatment_id, Product.name, StockLot.lot_number)
        .join(StockLot, StockLot.id == StockMovement.lot_id)
        .join(Product, Product.id == StockLot.product_id)
        .where(StockMovement.treatment_id.in_(treatment_ids), StockMovement.reason == "consumption")
        .order_by(StockMovement.id)
    )
    used = {}
    for treatment_id, product, lot in rows:
        used.setdefault(treatment_id, []).append(f"{product} (lot {lot})")
    return used


def session_photos(treatment_ids):
    """{treatment id: [Photo]} of the sessions' photos not archived, when the clinic prints photos in the history
    (its setting), in one query; else {}."""
    if not treatment_ids or not effective_settings().get(HISTORY_SETTING):
        return {}
    found = {}
    rows = db.session.execute(
        db.select(Photo)
        .where(Photo.treatment_id.in_(treatment_ids), Photo.archived_at.is_(None))
        .order_by(Photo.taken_at, Photo.id)
    ).scalars()
    for photo in rows:
        found.setdefault(photo.treatment_id, []).append(photo)
    return found


class ClientHistoryView(SecuredView):
    """A client's performed treatments in a date range, printable for the client or another clinician."""

    allowed_roles = CLINICAL_ROLES

    def is_visible(self):
        return False  # opened from a client's record

    @expose("/")
    def index(self):
        client = _active_client(request.args.get("id", type=int))
        if client is None:
            abort(404)
        today = local_today()
        date_from, date_to, errors = date_range(request.args, today, max_days=100 * 366)
        treatments = []
        if not errors:
            treatments = (
                db.session.execute(
                    db.select(Treatment)
                    .options(joinedload(Treatment.practitioner), joinedload(Treatment.location))
                    .where(
                        Treatment.client_id == client.id,
                        Treatment.status == "performed",
                        Treatment.archived_at.is_(None),
                        Treatment.performed_at >= day_bounds(date_from)[0],
                        Treatment.performed_at < day_bounds(date_to)[1],
                    )
                    .order_by(Treatment.performed_at)
                )
                .scalars()
                .all()
            )
            audit_read(
                "client.history.print",
                obj=client,
                client_id=client.id,
                detail={
                    "date_from": date_from.isoformat(),
                    "date_to": date_to.isoformat(),
                    "treatments": len(treatments),
                },
            )
        return self.render(
            "admin/client_history.html",
            client=client,
            treatments=treatments,
            errors=errors,
            date_from=date_from,
            date_to=date_to,
            lots=lots_used([t.id for t in treatments]),
            photos=session_photos([t.id for t in treatments]),
            area_label=area_label,
            details=functools.partial(details_for_display, settings=effective_settings()),
            diagrams=record_diagrams,
            modality_label=registry().modality_label,
            today=today,
        )
