"""Seed a clinic chain at scale, fast: bulk inserts straight into the migrated schema, with a fixed random seed.

At scale 1.0: 10 locations, 40 practitioners, 100,000 clients, 1,000,000 treatments over three years, 40 products in
2,000 lots, and about 2,000,000 stock movements (a receipt per lot, two consumptions per performed treatment), each
lot's quantity equal to the sum of its ledger. Performed sessions carry details in each shipped plugin's shape (points,
techniques, muscles, sites ...), and the cosmetic acupuncture points needled are in that plugin's table. SQLite gets
``executemany`` in one transaction; PostgreSQL gets COPY.
"""

import importlib
import json
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

MODALITIES = ("microneedling", "cosmetic_acupuncture", "facial_massage", "prolotherapy", "dry_needling")
FIRST = (
    "Ana",
    "Ben",
    "Chloe",
    "Dan",
    "Eva",
    "Finn",
    "Grace",
    "Hugo",
    "Iris",
    "Jon",
    "Kara",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Paul",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Uma",
    "Vic",
    "Wen",
    "Xavi",
    "Yara",
    "Zoe",
)
LAST = (
    "Smith",
    "Jones",
    "Garcia",
    "Nguyen",
    "Brown",
    "Martin",
    "Lee",
    "Walker",
    "Hall",
    "Allen",
    "Young",
    "King",
    "Wright",
    "Lopez",
    "Hill",
    "Scott",
    "Green",
    "Adams",
    "Baker",
    "Nelson",
    "Carter",
    "Mitchell",
    "Perez",
    "Roberts",
    "Turner",
    "Phillips",
    "Campbell",
    "Parker",
    "Evans",
    "Edwards",
    "Collins",
    "Stewart",
    "Morris",
    "Murphy",
    "Cook",
    "Rogers",
    "Morgan",
    "Peterson",
    "Cooper",
    "Reed",
    "Bailey",
    "Bell",
    "Gomez",
    "Kelly",
)
SEED_VERSION = 3  # bumped when the seeded data changes shape: older bench databases are seeded again
# The bench clinic keeps the default zone, UTC; the data ends today, so the dashboard and the year's reports have work.
TODAY = datetime.now(UTC).date()
PASSWORD = "bench-password-1234"


def counts(scale):
    return {
        "clients": int(100_000 * scale),
        "treatments": int(1_000_000 * scale),
        "locations": 10,
        "practitioners": 40,
        "products": 40,
        "lots_per_product_location": 5,
    }


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def bulk(connection, table, columns, rows):
    """Insert ``rows`` (tuples in ``columns`` order) into ``table`` on a raw DBAPI connection."""
    if connection.__class__.__module__.startswith("sqlite3"):
        sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'
        connection.executemany(sql, ([_sqlite_value(v) for v in row] for row in rows))
        return
    with connection.cursor() as cursor:
        with cursor.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)


def seed(app, scale=1.0):
    """Fill the app's (migrated, empty) database; returns the seeded counts."""
    from flask_security import hash_password

    from clinicadmin.demo import _role, ensure_roles
    from clinicadmin.extensions import db
    from clinicadmin.first_session import recompute_all
    from clinicadmin.models import Certification, Location
    from clinicadmin.stock import rebuild_usage

    n = counts(scale)
    rng = random.Random(20261102)
    with app.app_context():
        ensure_roles()
        locations = [Location(name=f"Clinic {i:02d}", address=f"{i} Main Street") for i in range(n["locations"])]
        db.session.add_all(locations)
        hashed = hash_password(PASSWORD)
        datastore = app.security.datastore
        datastore.create_user(
            email="manager@bench.example",
            full_name="Bench Manager",
            password=hashed,
            roles=[_role("manager")],
            location=locations[0],
        )
        practitioners = []
        for i in range(n["practitioners"]):
            user = datastore.create_user(
                email=f"practitioner{i:02d}@bench.example",
                full_name=f"Practitioner {i:02d}",
                password=hashed,
                roles=[_role("practitioner")],
                location=locations[i % len(locations)],
            )
            user.certifications = [
                Certification(scope=key, valid_from=TODAY - timedelta(days=2000))
                for key in MODALITIES + ("injections",)
            ]
            practitioners.append(user)
        db.session.commit()
        location_ids = [loc.id for loc in locations]
        practitioner_ids = [u.id for u in practitioners]
        with db.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE bench_seed (version INTEGER NOT NULL)")
        raw = db.engine.raw_connection()
        try:
            driver = raw.driver_connection
            _seed_rows(driver, n, rng, location_ids, practitioner_ids)
            raw.commit()
        finally:
            raw.close()
        rebuild_usage()  # the rows went in beside the stock service: sum its monthly usage from the ledger
        recompute_all()  # and each client's first session from the treatments
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            for table in (
                "client",
                "treatment",
                "stock_lot",
                "stock_movement",
                "health_entry",
                "consent",
                "screening_finding",
                "product",
                "cosmetic_acupuncture_point_use",
            ):
                db.session.execute(
                    db.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f'(SELECT coalesce(max(id), 1) FROM "{table}"))'
                    )
                )
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        else:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
    return n


def _choices(pairs):
    return [key for key, _ in pairs]


def _detail_makers():
    """For each shipped modality, a function (rng) -> the details a practitioner would record, in the plugin's own
    shape, so that the plugins' reports read as much JSON as they would in a real chain."""

    def plugin(name):  # the shipped plugins' modules, as their entry points load them
        return importlib.import_module(f"clinicadmin_{name}")

    FACE, BODY = plugin("cosmetic_acupuncture.points").FACE, plugin("cosmetic_acupuncture.points").BODY
    MUSCLES = plugin("dry_needling.muscles").MUSCLES
    massage, needling = plugin("facial_massage.form"), plugin("microneedling.form")
    MASSAGE_AREAS, MASSAGE_TECHNIQUES = massage.AREAS, massage.TECHNIQUES
    NEEDLING_AREAS, DEVICES = needling.AREAS, needling.DEVICES
    SITES = plugin("prolotherapy.form").SITES

    face, body = [p.code for p in FACE], [p.code for p in BODY]
    return {
        "cosmetic_acupuncture": lambda r: {
            "face_points": r.sample(face, 6),
            "body_points": r.sample(body, 3),
            "facial_needles": r.randint(20, 60),
            "body_needles": r.randint(4, 12),
            "retention_minutes": 30,
            "bruising": "none",
        },
        "microneedling": lambda r: {
            "device": r.choice(_choices(DEVICES)),
            "needle_depth_mm": str(r.choice((0.5, 1.0, 1.5, 2.0))),
            "areas": r.sample(_choices(NEEDLING_AREAS), 2),
            "passes": r.randint(2, 4),
            "serum_ml": str(r.choice((1.0, 1.5, 2.0))),
            "skin_reaction": "none",
        },
        "facial_massage": lambda r: {
            "techniques": r.sample(_choices(MASSAGE_TECHNIQUES), 2),
            "areas": r.sample(_choices(MASSAGE_AREAS), 2),
            "duration_minutes": r.choice((30, 45, 60)),
            "pressure": "light",
            "product_ml": "1.0",
        },
        "prolotherapy": lambda r: {
            "sites": r.sample(_choices(SITES), 2),
            "side": "left",
            "dextrose_percent": "15.0",
            "volume_ml": str(r.choice((5.0, 10.0, 15.0))),
            "injections": r.randint(4, 12),
        },
        "dry_needling": lambda r: {
            "muscles": r.sample(_choices(MUSCLES), 2),
            "side": "right",
            "needles": r.randint(2, 8),
            "technique": "pistoning",
            "twitch_response": r.random() < 0.6,
            "soreness_after": r.randint(0, 5),
        },
    }


def _seed_rows(driver, n, rng, location_ids, practitioner_ids):
    start = datetime.combine(TODAY, datetime.min.time()) - timedelta(days=3 * 365)
    clients = n["clients"]
    bulk(
        driver,
        "client",
        ("id", "first_name", "last_name", "date_of_birth", "email", "phone", "intake_reviewed_on", "created_at"),
        (
            (
                i,
                rng.choice(FIRST),
                f"{rng.choice(LAST)}{'' if i % 3 else rng.choice(LAST).lower()}",
                date(1950 + i % 50, 1 + i % 12, 1 + i % 28),
                f"client{i}@example.net",
                f"555-{i:07d}",
                TODAY - timedelta(days=i % 300),
                start + timedelta(minutes=i * 5),
            )
            for i in range(1, clients + 1)
        ),
    )
    bulk(
        driver,
        "health_entry",
        ("id", "client_id", "code", "onset", "recorded_at"),
        (
            (i, i * 5, rng.choice(("diabetes", "keloid_scarring", "anticoagulants", "rosacea")), None, start)
            for i in range(1, clients // 5 + 1)
        ),
    )
    bulk(
        driver,
        "consent",
        ("id", "client_id", "modality", "signed_on", "expires_on"),
        (
            (i, 1 + (i - 1) // 2, MODALITIES[(i - 1) % 2], TODAY - timedelta(days=400), TODAY + timedelta(days=400))
            for i in range(1, clients * 2 + 1)
        ),
    )
    products = [
        (
            i,
            f"SKU-{i:03d}",
            f"Product {i:03d}",
            ("needle", "cartridge", "serum", "gel", "oil")[i % 5],
            "unit",
            1000,
            False,
            True,
            0,
            Decimal("1.50"),
            True,
        )
        for i in range(1, n["products"] + 1)
    ]
    bulk(
        driver,
        "product",
        (
            "id",
            "sku",
            "name",
            "category",
            "unit",
            "pack_size",
            "single_use",
            "tracks_expiry",
            "reorder_level",
            "unit_cost",
            "active",
        ),
        products,
    )
    lots, lot_id = {}, 0
    for product in range(1, n["products"] + 1):
        for location in location_ids:
            for k in range(n["lots_per_product_location"]):
                lot_id += 1
                lots[lot_id] = [
                    product,
                    location,
                    f"L{product:03d}-{location:02d}-{k}",
                    TODAY + timedelta(days=90 + 60 * k),
                    0,
                ]
    by_location = {loc: [lid for lid, lot in lots.items() if lot[1] == loc] for loc in location_ids}
    treatments, movements, point_uses = [], [], []
    movement_id = len(lots)
    details_for = _detail_makers()
    for i in range(1, n["treatments"] + 1):
        when = start + timedelta(minutes=(i * 157) % (3 * 365 * 24 * 60))
        location = location_ids[i % len(location_ids)]
        status = "cancelled" if rng.random() > 0.98 else "performed"
        modality = MODALITIES[i % len(MODALITIES)]
        details = details_for[modality](rng) if status == "performed" else {}
        # The chain gains clients as it goes: treatment i is for one of the first ``known`` clients, so about a
        # third of them arrive in each year (client retention has new clients to find, as a real chain's has).
        known = max(1000, n["clients"] * i // n["treatments"])
        treatments.append(
            (
                i,
                1 + (i * 7919) % known,
                practitioner_ids[i % len(practitioner_ids)],
                location,
                modality,
                when,
                when if status == "performed" else None,
                status,
                "warnings" if i % 10 == 0 else "clear",
                1,
                json.dumps(details),
                when,
            )
        )
        for point in details.get("face_points", []) + details.get("body_points", []):
            point_uses.append(
                (
                    len(point_uses) + 1,
                    i,
                    point,
                    "face" if point in details["face_points"] else "body",
                    when,
                    treatments[-1][1],
                    location,
                    treatments[-1][2],
                )
            )
        if status == "performed":
            for lot in rng.sample(by_location[location], 2):
                movement_id += 1
                lots[lot][4] += 1000  # one unit, in thousandths
                movements.append((movement_id, lot, -1000, "consumption", i, when))
    # Today's and tomorrow's bookings, for the dashboard.
    for k in range(1, 41):
        when = datetime.combine(TODAY, datetime.min.time()) + timedelta(hours=8 + k % 10, days=k % 2)
        treatments.append(
            (
                n["treatments"] + k,
                1 + (k * 31) % clients,
                practitioner_ids[k % len(practitioner_ids)],
                location_ids[k % len(location_ids)],
                MODALITIES[k % len(MODALITIES)],
                when,
                None,
                "booked",
                "clear",
                1,
                "{}",
                when,
            )
        )
    bulk(
        driver,
        "stock_lot",
        ("id", "product_id", "location_id", "lot_number", "expires_on", "quantity", "received_at"),
        ((lid, p, loc, number, expires, 1_000_000, start) for lid, (p, loc, number, expires, used) in lots.items()),
    )  # received: what was used plus 1,000 units still on hand
    bulk(
        driver,
        "stock_movement",
        ("id", "lot_id", "quantity", "reason", "treatment_id", "created_at"),
        [(lid, lid, lot[4] + 1_000_000, "receipt", None, start) for lid, lot in lots.items()],
    )
    bulk(
        driver,
        "treatment",
        (
            "id",
            "client_id",
            "practitioner_id",
            "location_id",
            "modality",
            "scheduled_at",
            "performed_at",
            "status",
            "screening_status",
            "screening_run",
            "details",
            "created_at",
        ),
        treatments,
    )
    bulk(driver, "stock_movement", ("id", "lot_id", "quantity", "reason", "treatment_id", "created_at"), movements)
    bulk(
        driver,
        "cosmetic_acupuncture_point_use",
        ("id", "treatment_id", "point", "region", "performed_at", "client_id", "location_id", "practitioner_id"),
        point_uses,
    )
    bulk(driver, "bench_seed", ("version",), [(SEED_VERSION,)])
    bulk(
        driver,
        "screening_finding",
        (
            "id",
            "treatment_id",
            "run",
            "stage",
            "screened_at",
            "plugin",
            "code",
            "severity",
            "message",
            "acknowledged_at",
            "acknowledgement_note",
        ),
        (
            (
                k,
                t[0],
                1,
                "booking",
                t[5],
                "core.conditions",
                "diabetes",
                "warn",
                "Diabetic: slower healing.",
                t[5],
                "checked glucose",
            )
            for k, t in enumerate((t for t in treatments if t[8] == "warnings"), start=1)
        ),
    )
