"""``clinicadmin demo-data``: a believable small clinic, idempotent, built from the loaded plugins' vocabulary.

The core seeds what is not modality-specific (a location, staff of every role, clients and their histories,
generic products); each plugin adds its own products and past treatments through the ``demo_data`` hook.
"""

import random
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from flask import current_app
from flask_security import hash_password

from .certified import scopes_needed
from .clock import day_bounds, from_local, local_date, local_today, now
from .extensions import db
from .models import (
    Certification,
    Client,
    Consent,
    HealthEntry,
    Location,
    Product,
    Resource,
    Role,
    StockLot,
    Supplier,
    TimeOff,
    Treatment,
    WorkingHours,
)
from .models.staff import ROLES
from .plugins import registry
from .stock import receive

DEMO_STAFF = [
    ("admin@example.com", "Alex Admin", ["admin"]),
    ("manager@example.com", "Morgan Reyes", ["manager"]),
    ("practitioner@example.com", "Mei Lin, R.Ac.", ["practitioner"]),
    ("practitioner2@example.com", "Sam Okafor", ["practitioner"]),
    ("practitioner3@example.com", "Noor Haddad", ["practitioner"]),
    ("frontdesk@example.com", "Priya Shah", ["front_desk"]),
    ("stock@example.com", "Jordan Blake", ["stock_clerk"]),
]

FIRST = [
    "Ana",
    "Ben",
    "Chloe",
    "Daniel",
    "Elena",
    "Farah",
    "Grace",
    "Hugo",
    "Iris",
    "Jonas",
    "Keiko",
    "Liam",
    "Maya",
    "Nora",
    "Omar",
    "Paula",
    "Quinn",
    "Rosa",
    "Sofia",
    "Tariq",
    "Uma",
    "Vera",
    "Wen",
    "Ximena",
    "Yara",
    "Zoe",
    "Ines",
    "Lucas",
    "Amara",
    "Nadia",
]
LAST = [
    "Alvarez",
    "Brown",
    "Chen",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Martin",
    "Nakamura",
    "Olsen",
    "Petrov",
    "Quinlan",
    "Rossi",
    "Silva",
    "Tanaka",
    "Ueda",
    "Varga",
    "Wong",
    "Xu",
    "Yilmaz",
    "Zhang",
    "Moreau",
    "Novak",
    "Okoye",
    "Haddad",
]

# (code, days before today it started, or None if undated) — only codes the core registers.
PROFILES = [
    [("pregnancy", 90)],
    [("breastfeeding", 120)],
    [("rosacea", None)],
    [("diabetes", 2000)],
    [("dermal_filler", 20)],
    [("botulinum_toxin", 40)],
    [("anticoagulants", 300)],
    [("keloid_scarring", None)],
    [("diabetes", 900), ("hypertension_uncontrolled", 100)],
    [("chemical_peel", 10)],
]


@dataclass
class DemoContext:
    """What a plugin's ``demo_data`` hook gets: the demo clinic, and helpers that only add what is missing."""

    location: Location
    practitioners: list
    clients: list
    today: date
    supplier: Supplier
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    def product(
        self,
        sku,
        name,
        category,
        unit,
        pack_size,
        *,
        single_use=False,
        tracks_expiry=True,
        reorder_level=0,
        unit_cost=None,
    ):
        """The product with ``sku``, created if missing."""
        found = db.session.execute(db.select(Product).where(Product.sku == sku)).scalar_one_or_none()
        if found is None:
            found = Product(
                sku=sku,
                name=name,
                category=category,
                unit=unit,
                pack_size=pack_size,
                single_use=single_use,
                tracks_expiry=tracks_expiry,
                reorder_level=reorder_level,
                unit_cost=unit_cost,
            )
            db.session.add(found)
            db.session.flush()
        return found

    def lot(self, product, lot_number, expires_in_days, packs):
        """Receive a lot unless it is on file; ``expires_in_days`` may be negative (an expired lot is kept)."""
        existing = db.session.execute(
            db.select(StockLot).where(
                StockLot.product_id == product.id,
                StockLot.location_id == self.location.id,
                StockLot.lot_number == lot_number,
            )
        ).scalar_one_or_none()
        if existing is not None:
            return existing
        expires = None if expires_in_days is None else self.today + timedelta(days=expires_in_days)
        receive_day = min(self.today, expires - timedelta(days=1)) if expires else self.today
        return receive(
            product=product,
            location=self.location,
            lot_number=lot_number,
            expires_on=expires,
            packs=packs,
            user=None,
            note="demo data",
            today=receive_day,
            supplier=self.supplier,
        )

    def certification(self, practitioner, scope, valid_for_days=365):
        """``practitioner``'s certification for ``scope`` (a modality or qualification key), added if they hold none:
        valid from two years ago until ``valid_for_days`` from today (a negative number gives a lapsed one)."""
        for held in practitioner.certifications:
            if held.scope == scope:
                return held
        held = Certification(
            scope=scope,
            licence_number=f"LIC-{practitioner.id:03d}-{scope.replace('_', '')[:4].upper()}",
            valid_from=self.today - timedelta(days=700),
            valid_until=self.today + timedelta(days=valid_for_days),
        )
        practitioner.certifications.append(held)
        db.session.flush()
        return held

    def consent(self, client, modality, valid_for_days=365):
        """``client``'s consent to ``modality``, added if they have none: signed a few months ago, expiring
        ``valid_for_days`` from today."""
        for given in client.consents:
            if given.modality == modality:
                return given
        given = Consent(
            modality=modality,
            signed_on=self.today - timedelta(days=self.rng.randrange(30, 300)),
            expires_on=self.today + timedelta(days=valid_for_days),
        )
        client.consents.append(given)
        db.session.flush()
        return given

    def has_treatments(self, modality):
        """Whether any treatment of ``modality`` is on file (guard a plugin's past sessions with it)."""
        return (
            db.session.execute(db.select(db.func.count(Treatment.id)).where(Treatment.modality == modality)).scalar()
            > 0
        )

    def at(self, days_ago, hour=10):
        """The instant of ``hour`` o'clock, ``days_ago`` days before today, at the demo location."""
        return from_local(datetime.combine(self.today - timedelta(days=days_ago), time(hour, 0)), self.location)

    def resource(self, kind, name):
        """The room or device called ``name`` at the demo location, created (of ``kind``) if missing."""
        found = db.session.execute(
            db.select(Resource).where(Resource.location_id == self.location.id, Resource.name == name)
        ).scalar_one_or_none()
        if found is None:
            found = Resource(location=self.location, kind=kind, name=name, active=True)
            db.session.add(found)
            db.session.flush()
        return found

    def booking(self, client, modality, when, practitioner=None, location=None, details=None):
        """Book and screen a treatment as the booking page does, at ``when`` or the next time the book allows: half
        an hour later while someone or something is taken, the day before (or after, for a future booking) at
        opening time when the practitioner does not work then. ``details`` are the answers to the modality's
        booking questions (``booking_form_fields``), as the booking form stores them."""
        from .treatment_flow import TreatmentRejected, book

        practitioner = practitioner or self.practitioners[0]
        location = location or self.location
        past = when < now()
        # A refused attempt rolls its transaction back: what the demo added before it (products, lots, consents) is
        # committed first so that it stays.
        db.session.commit()
        for _ in range(80):
            try:
                return book(
                    client=client,
                    modality=modality,
                    practitioner=practitioner,
                    location=location,
                    scheduled_at=when,
                    user=practitioner,
                    details=details,
                )
            except TreatmentRejected as exc:
                text = str(exc)
                if "working hours" in text:
                    day = local_date(when, location) + timedelta(days=-1 if past else 1)
                    when = from_local(datetime.combine(day, time(10, 0)), location)
                elif any(taken in text for taken in ("is booked", "already has a booking", "is free")):
                    when += timedelta(minutes=30)
                else:
                    raise
        raise RuntimeError(f"no free time for a demo booking of {modality} near {when}")

    def past_session(self, client, modality, details, days_ago, practitioner=None):
        """A session recorded as the record page does (screening, stock, plugins' own rows); one that screening
        stops is cancelled instead, as a clinic would."""
        from .treatment_flow import TreatmentRejected, cancel, record

        treatment = self.booking(client, modality, self.at(days_ago), practitioner)
        try:
            record(
                treatment, details=details, performed_at=treatment.scheduled_at, notes=None, user=treatment.practitioner
            )
        except TreatmentRejected:
            cancel(treatment, reason="screening stopped it")
        return treatment


#: the demo practitioners' week at the demo location: (weekday, starts, ends), Monday 0; a lunch break on weekdays
DEMO_HOURS = [
    *((day, time(9, 0), time(13, 0)) for day in range(5)),
    *((day, time(13, 30), time(19, 0)) for day in range(5)),
    (5, time(9, 30), time(16, 0)),
]


def _working_week(practitioner, location):
    """Give ``practitioner`` the demo week at ``location`` unless they have hours there already."""
    if db.session.execute(
        db.select(WorkingHours.id)
        .where(WorkingHours.user_id == practitioner.id, WorkingHours.location_id == location.id)
        .limit(1)
    ).first():
        return
    db.session.add_all(
        WorkingHours(user=practitioner, location=location, weekday=day, starts=starts, ends=ends)
        for day, starts, ends in DEMO_HOURS
    )
    db.session.flush()


def ensure_roles() -> None:
    for name, description in ROLES.items():
        if db.session.execute(db.select(Role).where(Role.name == name)).scalar_one_or_none() is None:
            db.session.add(Role(name=name, description=description))
    db.session.flush()


def _role(name: str) -> Role:
    return db.session.execute(db.select(Role).where(Role.name == name)).scalar_one()


def load_demo(today=None):
    """Create the demo clinic if missing; returns {email: password} for accounts created now (empty if none)."""
    rng = random.Random(42)
    ensure_roles()
    location = db.session.execute(db.select(Location).where(Location.name == "Riverside Clinic")).scalar_one_or_none()
    if location is None:
        location = Location(name="Riverside Clinic", address="12 River Street", time_zone="Europe/London")
        db.session.add(location)
        db.session.flush()
    today = today or local_today(location)
    created = {}
    security = current_app.security.datastore
    for email, name, roles in DEMO_STAFF:
        user = security.find_user(email=email)
        if user is None:
            password = secrets.token_urlsafe(12)
            user = security.create_user(
                email=email,
                full_name=name,
                password=hash_password(password),
                roles=[_role(r) for r in roles],
                location=location,
            )
            created[email] = password
    db.session.flush()
    reg = registry()
    practitioners = [security.find_user(email=e) for e, _, r in DEMO_STAFF if "practitioner" in r]
    clients = []
    for i, (first, last) in enumerate(zip(FIRST, LAST, strict=True)):
        client = db.session.execute(
            db.select(Client).where(Client.first_name == first, Client.last_name == last)
        ).scalar_one_or_none()
        if client is None:
            client = Client(
                first_name=first,
                last_name=last,
                date_of_birth=date(1965 + rng.randrange(35), rng.randrange(1, 13), rng.randrange(1, 28)),
                email=f"{first.lower()}.{last.lower()}@example.net",
                phone=f"555-01{i:02d}",
                intake_reviewed_on=today - timedelta(days=rng.randrange(5, 200)),
            )
            db.session.add(client)
            profile = PROFILES[i] if i < len(PROFILES) else []
            for code, days in profile:
                if code in reg.conditions:
                    client.health_entries.append(
                        HealthEntry(code=code, onset=None if days is None else today - timedelta(days=days))
                    )
        clients.append(client)
    db.session.flush()
    suppliers = []
    for name, contact, email in (
        ("Medisupply Co.", "Dana Park", "orders@medisupply.example"),
        ("Aesthetic Essentials", "Luis Ortega", "sales@aesthetic-essentials.example"),
    ):
        supplier = db.session.execute(db.select(Supplier).where(Supplier.name == name)).scalar_one_or_none()
        if supplier is None:
            supplier = Supplier(name=name, contact=contact, email=email)
            db.session.add(supplier)
        suppliers.append(supplier)
    db.session.flush()
    demo = DemoContext(
        location=location, practitioners=practitioners, clients=clients, today=today, supplier=suppliers[0]
    )
    # The first practitioner holds every certification; the second lacks the qualifications (injections ...),
    # so screening shows what a missing qualification looks like. Every demo client has consented to every modality,
    # also when a plugin is installed after the demo clinic was made.
    for i, practitioner in enumerate(practitioners):
        for key in [*reg.modalities, *(reg.qualifications if i == 0 else ())]:
            demo.certification(practitioner, key)
    for client in clients:
        for key in reg.modalities:
            demo.consent(client, key)
    serum = demo.product(
        "SER-HA-30", "Hyaluronic acid serum 30 mL", "serum", "mL", 30, reorder_level=60, unit_cost="1.20"
    )
    demo.lot(serum, "HA-2311", 200, 4)
    demo.lot(serum, "HA-2302", 12, 1)  # near expiry
    gel = demo.product(
        "GEL-NUMB-30", "Topical anaesthetic gel 30 g", "gel", "g", 30, reorder_level=30, unit_cost="0.90"
    )
    demo.lot(gel, "AN-118", 300, 2)
    demo.lot(gel, "AN-097", -20, 1)  # expired, still on the shelf
    demo.product(
        "CLN-WIPE",
        "Alcohol prep pads",
        "consumable",
        "pad",
        200,
        single_use=True,
        tracks_expiry=False,
        reorder_level=100,
    )
    if "treatment_room" in reg.resource_kinds:
        for name in ("Room 1 (Willow)", "Room 2 (Cedar)", "Room 3 (Fern)"):
            demo.resource("treatment_room", name)
    for practitioner in practitioners:
        _working_week(practitioner, location)
    if (
        len(practitioners) > 1
        and db.session.execute(db.select(TimeOff.id).where(TimeOff.user_id == practitioners[1].id).limit(1)).first()
        is None
    ):
        db.session.add(
            TimeOff(
                user=practitioners[1],
                first_day=today + timedelta(days=8),
                last_day=today + timedelta(days=10),
                reason="Training course",
            )
        )
    reg.pm.hook.demo_data(demo=demo)
    harbour = _second_location(demo, practitioners)
    db.session.commit()  # a booking refused below rolls its own transaction back, and must not take these with it
    _a_week_ahead(demo, [(location, practitioners[:2]), (harbour, practitioners[2:])])
    db.session.commit()
    return created


#: the second demo location, an ocean away: its days, hours and times are New York's
HARBOUR = ("Harbour Street Clinic", "88 Harbour Street, Brooklyn", "America/New_York")


def _second_location(demo, practitioners):
    """Harbour Street, in New York: two rooms, and the third practitioner at home there with the demo week."""
    name, address, zone_name = HARBOUR
    harbour = db.session.execute(db.select(Location).where(Location.name == name)).scalar_one_or_none()
    if harbour is None:
        harbour = Location(name=name, address=address, time_zone=zone_name)
        db.session.add(harbour)
        db.session.flush()
    # One of each kind of room and device the plugins register, and a second treatment room.
    wanted = [(kind, f"Harbour {spec.label.lower()}") for kind, spec in sorted(registry().resource_kinds.items())]
    if "treatment_room" in registry().resource_kinds:
        wanted.append(("treatment_room", "Harbour treatment room 2"))
    for kind, room in wanted:
        if (
            db.session.execute(
                db.select(Resource.id).where(Resource.location_id == harbour.id, Resource.name == room)
            ).first()
            is None
        ):
            db.session.add(Resource(location=harbour, kind=kind, name=room, active=True))
    for practitioner in practitioners[2:]:
        practitioner.location = harbour
        _working_week(practitioner, harbour)
    db.session.flush()
    return harbour


def _a_week_ahead(demo, teams):
    """A realistic week from today: at each location, each practitioner's day holds a few sessions of the
    modalities they are certified for, with the demo's clients (made once: skipped when the week is booked)."""
    start, _ = day_bounds(demo.today, demo.location)
    _, end = day_bounds(demo.today + timedelta(days=6), demo.location)
    if (
        db.session.execute(
            db.select(db.func.count(Treatment.id)).where(Treatment.scheduled_at >= start, Treatment.scheduled_at < end)
        ).scalar()
        >= 20
    ):
        return
    rng = random.Random(2026)
    keys = sorted(registry().modalities)
    if not keys:
        return  # no modality loaded: nothing to book
    # Clients a plugin has booked already are its showcase (a blocked, a warned, a clear case): the week leaves them
    # alone, so what they show does not depend on the hour the demo is loaded at.
    showcased = set(
        db.session.execute(
            db.select(Treatment.client_id).where(Treatment.status == "booked", Treatment.scheduled_at >= start)
        ).scalars()
    )
    pool = [client for client in demo.clients if client.id not in showcased] or demo.clients
    clients = iter(rng.sample(pool, len(pool)) * 4)
    for location, team in teams:
        for offset in range(0, 6):
            day = demo.today + timedelta(days=offset)
            for practitioner in team:
                held = {c.scope for c in practitioner.certifications}
                mine = [key for key in keys if set(scopes_needed(key)) <= held] or keys
                for hour in rng.sample((9, 10, 11, 14, 15, 16, 17), 3):
                    when = from_local(datetime.combine(day, time(hour, rng.choice((0, 30)))), location)
                    if when < now() + timedelta(hours=1):
                        continue  # today's list starts from the next hour
                    try:
                        demo.booking(next(clients), rng.choice(mine), when, practitioner, location=location)
                    except RuntimeError:
                        continue  # no free time near it: the week has enough without it


def write_logins(instance_path, created):
    """Append newly created demo passwords to ``instance/demo-logins.txt`` (mode 0600); returns its path."""
    path = Path(instance_path) / "demo-logins.txt"
    if created:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as fh:
            for email, password in created.items():
                fh.write(f"{email}\t{password}\n")
        path.chmod(0o600)
    return path


#: What a plugin may use from here: the ``demo`` its ``demo_data`` hook receives (docs/plugin-hooks.md).
__all__ = ["DemoContext"]
