"""Builds the Flask-Admin panel: the core's views, then each plugin's, all behind login and roles."""

from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from ..extensions import db
from ..headers import csp_nonce
from ..models import (
    AuditEvent,
    Certification,
    Client,
    Consent,
    Course,
    HealthEntry,
    Location,
    PhotoConsent,
    Product,
    Resource,
    Role,
    StockLot,
    StockMovement,
    Supplier,
    TimeOff,
    Treatment,
    User,
    WorkingHours,
)
from ..plugins import PluginError, each_implementation
from .base import RoleRequired
from .book_setup import ResourceView, TimeOffView, WorkingHoursView
from .calendar import CalendarView
from .clients import ArchivedClientView, ClientDeskView, ClientView, ConsentView, HealthEntryView
from .clinic import AuditView, SettingsView
from .courses import CourseView
from .index import HomeView
from .inventory import ProductView, ReceiveStockView, StockLotView, StockMovementView, SupplierView
from .jobs import JobsView
from .lots import LotView
from .merge import ClientMergeView
from .message_templates import MessageTemplateView
from .paper import ClientHistoryView, ConsentFormView
from .photos import PhotoConsentView, PhotoView
from .recall import RecallView
from .reports import ReportsView
from .staff import CertificationView, LocationView, RoleView, UserView
from .stock_exceptions import StockExceptionView
from .stocktakes import StocktakeView
from .treatments import ArchivedTreatmentView, TreatmentDeskView, TreatmentListView


def init_admin(app, registry):
    """Create the app's Admin with every view; a plugin view that is not a SecuredView stops start-up."""
    admin = Admin(
        app,
        name=app.config["CLINIC_NAME"],
        url="/admin",
        index_view=HomeView(name="Home", url="/admin"),
        theme=Bootstrap4Theme(base_template="admin/clinic_base.html", swatch=app.config["FLASK_ADMIN_SWATCH"]),
        csp_nonce_generator=csp_nonce,
    )
    s = db
    admin.add_view(ClientView(Client, s, name="Clients", endpoint="client", category="Clients"))
    admin.add_view(ClientDeskView(Client, s, name="Clients (contact)", endpoint="client_desk", category="Clients"))
    admin.add_view(ClientMergeView(name="Merge clients", endpoint="client_merge", url="/admin/client-merge"))
    admin.add_view(HealthEntryView(HealthEntry, s, name="Health history", endpoint="health_entry", category="Clients"))
    admin.add_view(ConsentView(Consent, s, name="Consents", endpoint="consent", category="Clients"))
    admin.add_view(
        ArchivedClientView(Client, s, name="Archived clients", endpoint="client_archived", category="Clients")
    )
    # photos (issue 18)
    admin.add_view(
        PhotoConsentView(PhotoConsent, s, name="Photo consents", endpoint="photo_consent", category="Clients")
    )
    admin.add_view(PhotoView(name="Photos", endpoint="photos", url="/admin/photos"))
    admin.add_view(
        ConsentFormView(name="Consent forms", endpoint="consent_form", url="/admin/consent-form", category="Clients")
    )
    admin.add_view(
        ClientHistoryView(
            name="Treatment history", endpoint="client_history", url="/admin/client-history", category="Clients"
        )
    )
    admin.add_view(
        CalendarView(name="Appointment book", endpoint="calendar", url="/admin/calendar", category="Treatments")
    )
    admin.add_view(TreatmentListView(Treatment, s, name="Schedule", endpoint="treatment", category="Treatments"))
    admin.add_view(
        TreatmentDeskView(name="Book a treatment", endpoint="treatment_desk", url="/admin/desk", category="Treatments")
    )
    admin.add_view(CourseView(Course, s, name="Courses", endpoint="course", category="Treatments"))
    admin.add_view(
        ArchivedTreatmentView(
            Treatment, s, name="Archived treatments", endpoint="treatment_archived", category="Treatments"
        )
    )
    admin.add_view(ProductView(Product, s, name="Products", endpoint="product", category="Stock"))
    admin.add_view(StockLotView(StockLot, s, name="Lots", endpoint="stocklot", category="Stock"))
    admin.add_view(
        ReceiveStockView(name="Receive stock", endpoint="receive_stock", url="/admin/receive", category="Stock")
    )
    admin.add_view(StockMovementView(StockMovement, s, name="Ledger", endpoint="ledger", category="Stock"))
    admin.add_view(SupplierView(Supplier, s, name="Suppliers", endpoint="supplier", category="Stock"))
    admin.add_view(LotView(name="Lot", endpoint="lot", url="/admin/lot"))
    admin.add_view(
        StockExceptionView(
            name="Stock exceptions", endpoint="stock_exception", url="/admin/stock-exceptions", category="Stock"
        )
    )
    admin.add_view(StocktakeView(name="Stocktake", endpoint="stocktake", url="/admin/stocktake", category="Stock"))
    admin.add_view(RecallView(name="Recall a lot", endpoint="recall", url="/admin/recall", category="Stock"))
    admin.add_view(ReportsView(name="Reports", endpoint="reports", url="/admin/reports"))
    admin.add_view(UserView(User, s, name="Staff", endpoint="staff", category="Clinic"))
    admin.add_view(
        CertificationView(Certification, s, name="Certifications", endpoint="certification", category="Clinic")
    )
    admin.add_view(LocationView(Location, s, name="Locations", endpoint="location", category="Clinic"))
    admin.add_view(ResourceView(Resource, s, name="Rooms and devices", endpoint="resource", category="Clinic"))
    admin.add_view(WorkingHoursView(WorkingHours, s, name="Working hours", endpoint="working_hours", category="Clinic"))
    admin.add_view(TimeOffView(TimeOff, s, name="Time off", endpoint="time_off", category="Clinic"))
    admin.add_view(RoleView(Role, s, name="Roles", endpoint="role", category="Clinic"))
    admin.add_view(SettingsView(name="Settings", endpoint="settings", url="/admin/settings", category="Clinic"))
    admin.add_view(
        MessageTemplateView(
            name="Messages to clients", endpoint="message_templates", url="/admin/message-templates", category="Clinic"
        )
    )
    admin.add_view(AuditView(AuditEvent, s, name="Audit log", endpoint="audit", category="Clinic"))
    admin.add_view(JobsView(name="Background jobs", endpoint="jobs", url="/admin/jobs", category="Clinic"))
    for name, views, error in each_implementation(registry.pm, "register_admin_views", registration_order=True):
        if error is not None:
            raise PluginError(
                f"plugin {name!r}: register_admin_views() raised {type(error).__name__}: {error}"
            ) from error
        for view in views or []:
            if not isinstance(view, RoleRequired):
                raise PluginError(
                    f"plugin {name!r}: admin view {view!r} must derive from "
                    "clinicadmin.admin.base SecuredView or SecuredModelView"
                )
            admin.add_view(view)
    return admin
