"""Form pieces for the core and for plugins: ajax lookups of clients and products, never a dropdown of every row.

A plugin's ``treatment_form_fields`` may use :class:`ProductField` to let the practitioner pick the product a
treatment used (``ProductField("Serum", categories=["serum"])``); the stored value is the product's id.

Every lookup a form can ask for is registered when the app is created (:func:`init_lookups`): the client lookup, the
lookup of all products, and one per set of categories that a plugin's treatment form fields or a form class declares.
So any process of a multi-process server answers any lookup from its start, whether or not it has built the form.
A field whose lookup was not registered at start-up refuses to be built, rather than work in one process only.
"""

import keyword
import unicodedata
from typing import Any

from flask import current_app, has_app_context
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.model.fields import AjaxSelectField
from sqlalchemy import or_
from wtforms import Form, SelectMultipleField, ValidationError, widgets
from wtforms.fields.core import UnboundField
from wtforms.validators import StopValidation

from .extensions import db
from .models import Client, Product
from .plugins import PluginError, each_implementation

#: The most rows one lookup request returns, whatever it asks for (the select2 widget asks for 10).
LOOKUP_LIMIT = 20
#: How deep a lookup may page; past it the person is asked to type more of the name.
LOOKUP_MAX_OFFSET = 1000
#: The longest search term used; the rest is ignored.
SEARCH_TERM_LENGTH = 100
LOOKUPS_KEY = "clinicadmin.lookups"


class SearchRefused(ValueError):
    """A search term or page that cannot be searched for; its message says why, in words for the person."""


def search_term(text, max_length=SEARCH_TERM_LENGTH):
    """``text`` stripped and cut to ``max_length`` characters, ready for :func:`starts_with` once lower-cased.

    Raises :class:`SearchRefused` for control characters (NUL among them, which PostgreSQL cannot take) and lone
    surrogates (which no database can encode): no stored name or code holds them.
    """
    term = (text or "").strip()[:max_length]
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in term):
        raise SearchRefused("The search contains control characters; type letters, digits or punctuation.")
    return term


def like_prefix(term):
    """A LIKE pattern matching ``term`` literally at the start (``%``, ``_`` and ``\\`` are escaped)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _after_prefix(term):
    """The least text above every text that starts with ``term``, in code point order (the byte order of UTF-8), or
    None when there is none (``term`` is all U+10FFFF). Surrogates are skipped: no text holds them."""
    chars = list(term)
    while chars:
        code = ord(chars.pop()) + 1
        if code <= 0x10FFFF:
            if 0xD800 <= code <= 0xDFFF:
                code = 0xE000
            return "".join(chars) + chr(code)
    return None


def starts_with(column, term):
    """``column`` starts with ``term`` (already lower-case), case-insensitively and literally.

    A byte-order range on ``lower(column)`` that its index serves (client names and e-mail, product names and SKUs
    have one: ``schema.EXPRESSION_INDEXES``) (``term`` <= value < the least text above every value starting with
    ``term``), and the LIKE that keeps the match exact. Any term is safe: one that no stored text can hold (NUL,
    other control characters, lone surrogates) matches nothing instead of reaching the database.
    """
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in term):
        return db.false()
    lowered = db.func.lower(column)
    if db.session.get_bind().dialect.name == "postgresql":
        lowered = lowered.collate("C")
    upper = _after_prefix(term)
    in_range = lowered >= term if upper is None else db.and_(lowered >= term, lowered < upper)
    return db.and_(in_range, db.func.lower(column).like(like_prefix(term), escape="\\"))


def lookup_page(offset, limit):
    """``(offset, limit)`` of a lookup request made safe: the limit between 1 and :data:`LOOKUP_LIMIT`; an offset
    below 0 or past :data:`LOOKUP_MAX_OFFSET` raises :class:`SearchRefused`."""
    offset = offset or 0
    if offset < 0:
        raise SearchRefused("That page of results does not exist.")
    if offset > LOOKUP_MAX_OFFSET:
        raise SearchRefused(f"Only the first {LOOKUP_MAX_OFFSET} matches are listed; type more of the name.")
    return offset, max(1, min(limit or LOOKUP_LIMIT, LOOKUP_LIMIT))


class Lookup(QueryAjaxModelLoader):
    """A loader whose ``get_one`` applies the same filters as its list, whose search is a literal prefix, and whose
    pages hold at most :data:`LOOKUP_LIMIT` rows. ``client_data``: its rows are clients (audited, role-checked)."""

    client_data = False
    search_columns: tuple[Any, ...] = ()
    placeholder = "Type to search"

    def __init__(self, name):
        super().__init__(
            name,
            db.session,
            self.model,
            fields=list(self.search_columns),
            page_size=LOOKUP_LIMIT,
            placeholder=self.placeholder,
        )

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
        """Rows whose search columns start with ``term``; raises :class:`SearchRefused` for a term or page that
        cannot be searched (see :func:`search_term` and :func:`lookup_page`)."""
        term = search_term(term)
        offset, limit = lookup_page(offset, limit)
        query = self.base_query()
        if term:
            query = query.filter(or_(*(starts_with(col, term.lower()) for col in self.search_columns)))
        return query.order_by(*self.search_columns).offset(offset).limit(limit).all()


class ClientLookup(Lookup):
    """Clients who are not archived, searched by the start of the last name, first name or email."""

    model = Client
    client_data = True
    search_columns = (Client.last_name, Client.first_name, Client.email)
    placeholder = "Type the start of the client's last name, first name or email"

    def __init__(self, name="client"):
        super().__init__(name)

    def base_query(self):
        return db.session.query(Client).filter(Client.archived_at.is_(None))


def product_lookup_name(categories=None):
    """The name of the lookup of active products of ``categories`` (all products when none are given)."""
    categories = sorted(set(categories or ()))
    return "product" + ("-" + "-".join(categories) if categories else "")


class ProductLookup(Lookup):
    """Active products of some categories, searched by the start of the name or SKU."""

    model = Product
    search_columns = (Product.name, Product.sku)
    placeholder = "Type the start of the product's name or SKU"

    def __init__(self, categories=None):
        self.categories = tuple(sorted(set(categories or ())))
        super().__init__(product_lookup_name(self.categories))

    def base_query(self):
        query = db.session.query(Product).filter(Product.active.is_(True))
        if self.categories:
            query = query.filter(Product.category.in_(self.categories))
        return query


def client_lookup():
    """A client lookup, for a model view's ``form_ajax_refs``."""
    return ClientLookup()


def product_lookup(categories=None):
    """A product lookup of ``categories``, for a model view's ``form_ajax_refs``."""
    return ProductLookup(categories)


def lookups():
    """The current app's registered lookups, by name."""
    return current_app.extensions[LOOKUPS_KEY]


def loader(name):
    """The current app's registered lookup called ``name`` (used by the views' ajax endpoints), or None."""
    return lookups().get(name)


class LookupField(AjaxSelectField):
    """An ajax pick of a record through a lookup registered at start-up; subclasses say which (``lookup_for``)."""

    #: the keyword arguments that choose the lookup, not passed on to the field
    lookup_arguments: tuple[str, ...] = ()

    @classmethod
    def lookup_for(cls, **kwargs):
        """The lookup a field built with these keyword arguments uses."""
        raise NotImplementedError

    def __init__(self, label=None, validators=None, **kwargs):
        lookup = self.lookup_for(**kwargs)
        for key in self.lookup_arguments:
            kwargs.pop(key, None)
        if has_app_context():
            registered = current_app.extensions.get(LOOKUPS_KEY, {}).get(lookup.name)
            if registered is None:
                raise LookupError(
                    f"the lookup {lookup.name!r} was not registered when the app was created, so other server "
                    "processes could not answer it: declare the field in a form class or in treatment_form_fields"
                )
            lookup = registered
        super().__init__(lookup, label, validators, **kwargs)


class ClientField(LookupField):
    """Pick a client by typing the start of their name; the data is the Client."""

    @classmethod
    def lookup_for(cls, **kwargs):
        return ClientLookup()


class ProductField(LookupField):
    """Pick an active product of ``categories`` by typing; the data is the Product."""

    lookup_arguments = ("categories",)

    @classmethod
    def lookup_for(cls, categories=None, **kwargs):
        return ProductLookup(categories)


def _declared_lookups(unbound_fields):
    for unbound in unbound_fields:
        field_class = getattr(unbound, "field_class", None)
        if isinstance(unbound, UnboundField) and isinstance(field_class, type) and issubclass(field_class, LookupField):
            yield field_class.lookup_for(**unbound.kwargs)


def _form_classes(base=Form):
    for sub in base.__subclasses__():
        yield sub
        yield from _form_classes(sub)


#: Names a plugin's form field cannot take: they are the form's own attributes (a field would hide them).
RESERVED_FIELD_NAMES = frozenset(name for name in dir(Form) if not name.startswith("_")) | {
    "process",
    "meta",
    "data",
    "errors",
    "validate",
    "populate_obj",
}


def _check_form_answer(registry, plugin, hook, modality, answer):
    """Stop start-up when ``plugin`` answers a form hook for a modality another plugin owns, or with something other
    than a dict of fields whose names are identifiers the form does not use itself."""
    if not answer:
        return
    owner = registry.modality_plugin.get(modality)
    if plugin != owner:
        raise PluginError(
            f"plugin {plugin!r}: {hook}({modality!r}) answers for a modality plugin {owner!r} owns; "
            "only the modality's own plugin answers"
        )
    if not isinstance(answer, dict):
        raise PluginError(f"plugin {plugin!r}: {hook}({modality!r}) returned {answer!r}, expected a dict of fields")
    for key in answer:
        if (
            not isinstance(key, str)
            or not key.isidentifier()
            or keyword.iskeyword(key)
            or key.startswith("_")
            or key in RESERVED_FIELD_NAMES
        ):
            raise PluginError(
                f"plugin {plugin!r}: {hook}({modality!r}) names a field {key!r}; a field's name must be a Python "
                "identifier not starting with '_' and not one of the form's own names "
                f"({', '.join(sorted(RESERVED_FIELD_NAMES))})"
            )


def init_lookups(app, registry):
    """Register every lookup the app's forms can ask for, in the app: clients, all products, each lookup field that
    a form class declares, and each one in a loaded plugin's treatment or booking form fields for any modality.

    A plugin's product field that offers a category no plugin registers stops start-up, naming the plugin."""
    found = [ClientLookup(), ProductLookup()]
    for form_class in list(_form_classes()):
        found.extend(_declared_lookups(vars(form_class).values()))
    defaults = {key: spec.default for key, spec in registry.settings.items()}  # the database may not exist yet
    with app.app_context():
        for modality in registry.modalities:
            for hook in ("treatment_form_fields", "booking_form_fields"):
                for name, answer, error in each_implementation(registry.pm, hook, modality=modality, settings=defaults):
                    if error is not None:
                        raise PluginError(
                            f"plugin {name!r}: {hook}({modality!r}) raised {type(error).__name__}: {error}"
                        ) from error
                    _check_form_answer(registry, name, hook, modality, answer)
                    declared = list(_declared_lookups((answer or {}).values()))
                    for lookup in declared:
                        registry.check_product_categories(
                            f"plugin {name!r}, {hook}({modality!r})", getattr(lookup, "categories", ())
                        )
                    found.extend(declared)
    app.extensions[LOOKUPS_KEY] = {lookup.name: lookup for lookup in found}


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


#: What a plugin may import from here for its forms (docs/plugin-hooks.md documents each).
__all__ = [
    "ProductField",
    "ClientField",
    "CheckboxListField",
    "at_least_one",
    "needed_with",
    "finite_number",
    "product_lookup",
    "client_lookup",
]
