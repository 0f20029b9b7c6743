"""Daily e-mails to staff: the stock digest (low and out of stock, lots expiring soon, expired lots still on hand,
held lots, open stock exceptions; per location) to stock clerks and managers, and consents and certifications expiring
within 30 days to managers. Each person gets a digest at most once a day (a claim per job, day and recipient), and
none when there is nothing to report."""

from collections import defaultdict
from datetime import date, timedelta

from flask import current_app
from flask_mailman import EmailMessage
from sqlalchemy.orm import joinedload

from ..audit import audit
from ..clock import local_today
from ..extensions import db
from ..models import Certification, Client, Consent, Location, Product, Role, StockLot, User
from ..plugins import registry
from .runs import claim_once, release_claim

EXPIRY_DAYS = 30
STOCK_DIGEST = "stock-digest"
EXPIRY_DIGEST = "expiry-digest"


def _recipients(*roles):
    """Active staff with one of ``roles`` and an e-mail address, in a stable order."""
    return list(
        db.session.execute(
            db.select(User)
            .where(User.active.is_(True), User.email.is_not(None), User.roles.any(Role.name.in_(roles)))
            .order_by(User.email)
        ).scalars()
    )


def _send(job: str, day: date, user: User, subject: str, body: str, clients: list[int] | None = None) -> bool:
    """Send one digest to ``user`` unless it was sent to them for ``day`` already; True if this call sent it. A
    digest naming ``clients`` is audited as a read of their records, for its recipient, with the send's outcome
    ("ok" once sent; "failed" for an attempt the mail server refused, whose retry is audited in turn)."""
    key = f"{day.isoformat()}/{user.email}"
    if not claim_once(job, key):
        return False
    try:
        EmailMessage(subject, body, to=[user.email]).send()
    except Exception:
        release_claim(job, key)  # not sent: a retry sends it
        _audit_digest(job, user, clients, "failed")
        raise
    _audit_digest(job, user, clients, "ok")
    return True


def _audit_digest(job: str, user: User, clients: list[int] | None, outcome: str) -> None:
    if clients:
        audit(f"digest.{job}", object_type="Client", outcome=outcome, detail={"recipient": user.id, "clients": clients})
        db.session.commit()


def _sent_summary(sent: int, skipped: int, empty: int) -> str:
    return f"sent {sent}; {skipped} already sent today; {empty} with nothing to report"


# --- stock ----------------------------------------------------------------------------------------------------------


def _expiry_warning_days() -> int:
    from ..clinic_settings import effective_settings

    return int(effective_settings().get("core.expiry_warning_days", 30))


def stock_sections():
    """What needs attention per location name: section title -> lines."""
    sections = defaultdict(lambda: defaultdict(list))  # location name -> section title -> lines
    locations = db.session.execute(db.select(Location).where(Location.active.is_(True))).scalars().all()
    warning = _expiry_warning_days()
    report = registry().reports.get("stock-on-hand")
    for location in locations:
        today = local_today(location)
        if report is not None:
            for row in report.run({"today": today, "location_id": location.id}).rows:
                if "OUT OF STOCK" in row[-1] or "LOW" in row[-1]:
                    flag = "out of stock" if "OUT OF STOCK" in row[-1] else "low"
                    sections[location.name]["Low or out of stock"].append(f"{row[1]} ({row[0]}): {row[3]}, {flag}")
        lots = db.session.execute(
            db.select(StockLot)
            .options(joinedload(StockLot.product))
            .join(Product, Product.id == StockLot.product_id)
            .where(
                StockLot.location_id == location.id,
                StockLot.quantity > 0,
                db.or_(
                    StockLot.held_at.is_not(None),
                    db.and_(StockLot.expires_on.is_not(None), StockLot.expires_on <= today + timedelta(days=warning)),
                ),
            )
            .order_by(StockLot.expires_on, Product.name, StockLot.lot_number)
        ).scalars()
        for lot in lots:
            what = f"{lot.product.name} lot {lot.lot_number}: {lot.quantity.normalize():f} {lot.product.unit}"
            if lot.held_at is not None:
                sections[location.name]["Held lots (recall)"].append(what)
            elif lot.expires_on < today:
                sections[location.name]["Expired, still on hand"].append(f"{what}, expired {lot.expires_on}")
            else:
                sections[location.name]["Expiring soon"].append(f"{what}, expires {lot.expires_on}")
    from ..stock_exceptions import open_totals

    for product, location, units, count in open_totals():
        sections[location.name]["Open stock exceptions"].append(
            f"{units.normalize():f} {product.unit} of {product.name} ({product.sku}), in {count}"
        )
    return sections


SECTION_ORDER = (
    "Low or out of stock",
    "Expiring soon",
    "Expired, still on hand",
    "Held lots (recall)",
    "Open stock exceptions",
)


def _stock_body(sections: dict[str, dict[str, list[str]]], names: list[str]) -> str:
    parts = []
    for name in names:
        found = sections.get(name) or {}
        if not any(found.values()):
            continue
        parts.append(f"== {name} ==")
        for title in SECTION_ORDER:
            if found.get(title):
                parts.append(f"{title}:")
                parts.extend(f"  - {line}" for line in found[title])
        parts.append("")
    return "\n".join(parts)


def send_stock_digest() -> str:
    """E-mail each stock clerk (their own location, if they have one) and manager (every location) what in stock
    needs attention today."""
    sections = stock_sections()
    every = sorted(sections)
    day = local_today()
    sent = skipped = empty = 0
    for user in _recipients("stock_clerk", "manager"):
        mine = [user.location.name] if user.location and "manager" not in user.role_names else every
        body = _stock_body(sections, [n for n in every if n in mine])
        if not body:
            empty += 1
            continue
        subject = f"{current_app.config['CLINIC_NAME']}: stock needing attention on {day.isoformat()}"
        intro = "What needs attention in stock today (ClinicAdmin > Stock).\n\n"
        if _send(STOCK_DIGEST, day, user, subject, intro + body):
            sent += 1
        else:
            skipped += 1
    return _sent_summary(sent, skipped, empty)


# --- consents and certifications ------------------------------------------------------------------------------------


def expiring_consents(today, days=EXPIRY_DAYS):
    """Consents in force that expire within ``days``, soonest first (clients not archived)."""
    return list(
        db.session.execute(
            db.select(Consent)
            .options(joinedload(Consent.client))
            .join(Client, Client.id == Consent.client_id)
            .where(
                Client.archived_at.is_(None),
                Consent.withdrawn_on.is_(None),
                Consent.expires_on >= today,
                Consent.expires_on <= today + timedelta(days=days),
            )
            .order_by(Consent.expires_on, Consent.id)
        ).scalars()
    )


def expiring_certifications(today, days=EXPIRY_DAYS):
    """Certifications of active staff that expire within ``days``, soonest first."""
    return list(
        db.session.execute(
            db.select(Certification)
            .options(joinedload(Certification.user))
            .join(User, User.id == Certification.user_id)
            .where(
                User.active.is_(True),
                Certification.valid_until >= today,
                Certification.valid_until <= today + timedelta(days=days),
            )
            .order_by(Certification.valid_until, Certification.id)
        ).scalars()
    )


def send_expiry_digest() -> str:
    """E-mail each manager the consents and certifications that expire within 30 days."""
    day = local_today()
    consents, certifications = expiring_consents(day), expiring_certifications(day)
    if not consents and not certifications:
        return "nothing expires within 30 days"
    reg = registry()
    lines = [f"Expiring within {EXPIRY_DAYS} days (ClinicAdmin > Clients > Consents, Clinic > Certifications).", ""]
    if consents:
        lines.append("Consents:")
        lines += [f"  - {c.expires_on}: {c.client.full_name}, {reg.modality_label(c.modality)}" for c in consents]
        lines.append("")
    if certifications:
        lines.append("Certifications:")
        lines += [
            f"  - {c.valid_until}: {c.user}, {reg.scope_label(c.scope)} ({c.licence_number or 'no licence number'})"
            for c in certifications
        ]
    body = "\n".join(lines) + "\n"
    subject = f"{current_app.config['CLINIC_NAME']}: consents and certifications expiring by " + (
        (day + timedelta(days=EXPIRY_DAYS)).isoformat()
    )
    sent = skipped = 0
    for user in _recipients("manager"):
        if _send(EXPIRY_DIGEST, day, user, subject, body, sorted({c.client_id for c in consents})):
            sent += 1
        else:
            skipped += 1
    return _sent_summary(sent, skipped, 0)
