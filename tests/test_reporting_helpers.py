"""The SQL helpers plugin reports aggregate their details with (``clinicadmin.reporting``) mean the same on SQLite and
PostgreSQL: numbers stored as text or as JSON numbers, lists of chosen items, yes/no flags, and the month."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from fake_modality import KEY

from clinicadmin.extensions import db
from clinicadmin.models import Treatment
from clinicadmin.reporting import (
    counts_per,
    detail_count,
    detail_flag,
    detail_items,
    detail_number,
    detail_text,
    month_group,
    month_key,
    performed_sessions,
)

SESSIONS = [
    (datetime(2026, 3, 31, 23, 59, tzinfo=UTC), {"amount": "1.50", "items": ["a", "b"], "flag": True, "side": "left"}),
    (datetime(2026, 4, 1, 0, 0, tzinfo=UTC), {"amount": 2, "items": ["a"], "flag": False, "side": 'Rücken "ß"'}),
    (datetime(2026, 4, 15, 9, 30, tzinfo=UTC), {"amount": None, "items": [], "other": "x", "side": ""}),
    (datetime(2026, 4, 16, 9, 30, tzinfo=UTC), {}),
]


@pytest.fixture
def sessions(core):
    client = core.client(consents=[KEY])
    for when, details in SESSIONS:
        treatment = core.booked(client, KEY, when=when, minutes=1)  # 23:59 and 00:00 must not overlap
        treatment.status, treatment.performed_at, treatment.details = "performed", when, details
    db.session.commit()
    return db.select().select_from(Treatment).where(Treatment.status == "performed")


def test_month_key_is_the_calendar_month_of_the_moment(sessions):
    month = month_key(Treatment.performed_at)
    found = dict(db.session.execute(sessions.add_columns(month, db.func.count()).group_by(month)).all())
    assert found == {"2026-03": 1, "2026-04": 3}


def test_month_key_labels_a_month_group_on_both_databases(sessions):
    """A plugin groups by ``month_group`` (the month index's expression) and selects ``month_key``: PostgreSQL accepts
    the label only because it is computed from the group."""
    month, group = month_key(Treatment.performed_at), month_group(Treatment.performed_at)
    params = {"date_from": date(2026, 3, 31), "date_to": date(2026, 4, 15)}
    query = performed_sessions(KEY, params, month, db.func.count()).group_by(group).order_by(group)
    assert db.session.execute(query).all() == [("2026-03", 1), ("2026-04", 2)]


def test_detail_number_reads_text_and_numbers_and_leaves_out_what_is_missing(sessions):
    amount = detail_number(Treatment.details, "amount")
    total, counted = db.session.execute(sessions.add_columns(db.func.sum(amount), db.func.count(amount))).one()
    assert Decimal(str(total)) == Decimal("3.5") and counted == 2


def test_detail_items_joins_each_chosen_item_and_detail_count_counts_them(sessions):
    item = detail_items(Treatment.details, "items")
    per_item = dict(
        db.session.execute(
            sessions.add_columns(item.c.value, db.func.count()).join(item, db.true()).group_by(item.c.value)
        ).all()
    )
    assert per_item == {"a": 2, "b": 1}
    lengths = sorted(db.session.execute(sessions.add_columns(detail_count(Treatment.details, "items"))).scalars())
    assert lengths == [0, 0, 1, 2]


def test_detail_text_groups_by_a_recorded_choice_and_leaves_out_what_is_missing(sessions):
    """One text value per session (a choice): grouped as written, quotes and accents included; an empty or absent
    value is one "not recorded" group (NULL), never an empty label."""
    side = detail_text(Treatment.details, "side")
    found = dict(db.session.execute(sessions.add_columns(side, db.func.count()).group_by(side)).all())
    assert found == {"left": 1, 'Rücken "ß"': 1, None: 2}


def test_detail_flag_counts_only_a_recorded_yes(sessions):
    flags = db.session.execute(sessions.add_columns(db.func.sum(detail_flag(Treatment.details, "flag")))).scalar()
    assert flags == 1


def test_counts_per_counts_rows_and_distinct_values_per_key(core, sessions):
    """The same figures on both databases, whichever way each groups them: rows per key, and each value once."""
    other = core.client(first="Other", consents=[KEY])
    when = datetime(2026, 4, 20, 9, tzinfo=UTC)
    treatment = core.booked(other, KEY, when=when)
    treatment.status, treatment.performed_at, treatment.details = "performed", when, {}
    db.session.commit()
    performed = db.select().select_from(Treatment).where(Treatment.status == "performed")
    found = {
        row.key: (row.rows, row.distinct)
        for row in db.session.execute(counts_per(performed, Treatment.modality, Treatment.client_id))
    }
    assert found == {KEY: (5, 2)}
