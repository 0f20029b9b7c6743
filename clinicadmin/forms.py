"""Form pieces for the core and for plugins: ajax lookups of clients and products, never a dropdown of every row.

A plugin's ``treatment_form_fields`` may use :class:`ProductField` to let the practitioner pick the product a
treatment used (``ProductField("Serum", categories=["serum"])``); the stored value is the product's id.
"""
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.model.fields import AjaxSelectField
from sqlalchemy import or_
from wtforms import SelectMultipleField, ValidationError, widgets
from wtforms.validators import StopValidation

from .extensions import db
from .models import Client, Product

LOOKUP_LIMIT = 20
_LOADERS = {}


def like_prefix(term):
    """A LIKE pattern matching ``term`` literally at the start (``%``, ``_`` and ``\\`` are escaped)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def starts_with(column, term):
    """``column`` starts with ``term`` (already lower-case), case-insensitively and literally.

    A byte-order range on ``lower(column)`` that its index serves (client names and e-mail, product names and SKUs
    have one: ``schema.EXPRESSION_INDEXES``) (``term`` <= value < ``term`` with its last
    character incremented), and the LIKE that keeps the match exact.
    """
    lowered = db.func.lower(column)
    if db.session.get_bind().dialect.name == "postgresql":
        lowered = lowered.collate("C")
    upper = prefix_upper_bound(term)
    in_range = lowered >= term if upper is None else db.and_(lowered >= term, lowered < upper)
    return db.and_(in_range, db.func.lower(column).like(like_prefix(term), escape="\\"))


def prefix_upper_bound(term):
    """The least text above every text starting with ``term``: its last character incremented, past the surrogates
    (which no text holds), or the one before it when that is the highest character; None when there is none."""
    while term:
        code = ord(term[-1]) + 1
        if code == 0xD800:
            code = 0xE000
        if code <= 0x10FFFF:
            return term[:-1] + chr(code)
        term = term[:-1]
    return None


class _Lookup(QueryAjaxModelLoader):
    """A loader whose ``get_one`` applies the same filters as its list, and whose search is a literal prefix."""

    search_columns = ()
    placeholder = "Type to search"

    def __init__(self, name):
        super().__init__(name, db.session, self.model, fields=list(self.search_columns), page_size=LOOKUP_LIMIT,
                         placeholder=self.placeholder)
        _LOADERS[name] = self

    def base_query(self):
        return db.session.query(self.model)

    def get_one(self, pk):
        try:
            key = int(pk)
        except (TypeError, ValueError):
            return None
        with db.session.no_autoflush:
            return self.base_query().filter(self.model.id == key).one_or_none()

    def get_list(self, term, offset=0, limit=LOOKUP_LIMIT):
        term = (term or "").strip()[:100]
        query = self.base_query()
        if term:
            query = query.filter(or_(*(starts_with(col, term.lower()) for col in self.search_columns)))
        return query.order_by(*self.search_columns).offset(offset or 0).limit(min(limit or LOOKUP_LIMIT, 50)).all()


class ClientLookup(_Lookup):
    """Clients who are not archived, searched by the start of the last name, first name or email."""

    model = Client
    search_columns = (Client.last_name, Client.first_name, Client.email)
    placeholder = "Type the start of the client's last name, first name or email"

    def base_query(self):
        return db.session.query(Client).filter(Client.archived_at.is_(None))


class ProductLookup(_Lookup):
    """Active products of some categories, searched by the start of the name or SKU."""

    model = Product
    search_columns = (Product.name, Product.sku)
    placeholder = "Type the start of the product's name or SKU"

    def __init__(self, categories=None):
        self.categories = tuple(sorted(categories or ()))
        super().__init__("product" + ("-" + "-".join(self.categories) if self.categories else ""))

    def base_query(self):
        query = db.session.query(Product).filter(Product.active.is_(True))
        if self.categories:
            query = query.filter(Product.category.in_(self.categories))
        return query


def loader(name):
    """The registered lookup called ``name`` (used by the views' ajax endpoints), or None."""
    return _LOADERS.get(name)


def client_lookup():
    return _LOADERS.get("client") or ClientLookup("client")


def product_lookup(categories=None):
    key = "product" + ("-" + "-".join(sorted(categories)) if categories else "")
    return _LOADERS.get(key) or ProductLookup(categories)


class ClientField(AjaxSelectField):
    """Pick a client by typing the start of their name; the data is the Client."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(client_lookup(), label, validators, **kwargs)


class ProductField(AjaxSelectField):
    """Pick an active product of ``categories`` by typing; the data is the Product."""

    def __init__(self, label=None, validators=None, categories=None, **kwargs):
        super().__init__(product_lookup(categories), label, validators, **kwargs)


def needed_with(other_field, label):
    """A validator for an amount that goes with a product (``other_field``): required with it, refused without it.

    Put it before ``Optional()``, which would otherwise end the chain on an empty amount before this check runs.
    """
    def check(form, field):
        chosen = form[other_field].data
        if chosen not in (None, "", []) and field.data is None:
            raise StopValidation(f"Give the amount of {label} used.")
        if chosen in (None, "", []) and field.data is not None:
            raise StopValidation(f"Choose the {label} product, or leave the amount empty.")
    return check


def finite_number(form, field):
    """Refuse NaN and infinity, which ``DecimalField`` accepts."""
    if field.data is not None and not field.data.is_finite():
        raise ValidationError("Enter a number.")


def at_least_one(message="Choose at least one."):
    def check(form, field):
        if not field.data:
            raise ValidationError(message)
    return check


class CheckboxListField(SelectMultipleField):
    """Several choices as a list of checkboxes (areas treated, techniques used); the data is a list of values."""

    option_widget = widgets.CheckboxInput()
    widget = widgets.ListWidget(prefix_label=False)
