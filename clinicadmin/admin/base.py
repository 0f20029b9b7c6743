"""The one base for every admin view: login and a role are required, and actions are granted per role.

No view opts in to security by itself; ``register_admin_views`` refuses plugin views that do not derive from here.
"""

import json
from datetime import date, datetime

from flask import Response, abort, flash, g, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.model import typefmt
from flask_security import current_user
from wtforms import HiddenField

from ..audit import audit_read
from ..extensions import db
from ..forms import Lookup, SearchRefused, lookups, starts_with
from ..input_policy import PolicyAdminForm, policy_form_view
from ..roles import ALL_ROLES
from ..roles import DESK_ROLES as CLIENT_ROLES
from ..transitions import AlreadyDone, claim
from .local_time import LocalTimeMixin
from .once import new_token

#: the roles that may see clients' names (everyone but stock clerks)

#: Dates and times as a clinic reads them: to the minute, no microseconds.
TYPE_FORMATTERS = {
    **typefmt.BASE_FORMATTERS,
    datetime: lambda view, value, name: value.strftime("%Y-%m-%d %H:%M"),
    date: lambda view, value, name: value.isoformat(),
}


def acting_roles():
    """The acting user's roles as stored when this request first asked (before any form populated anything):
    read once per request, so a form that edits the acting user's own record cannot change what they may do."""
    if "acting_roles" not in g:
        user = current_user._get_current_object() if current_user else None
        g.acting_roles = (
            frozenset(user.role_names)
            if user is not None
            and user.is_authenticated
            and user.active
            and not (user in db.session and db.session.is_modified(user))
            else frozenset()
        )
    return g.acting_roles


def user_has_role(*roles):
    return bool(acting_roles() & set(roles))


class RoleRequired:
    """Grants the view to ``allowed_roles``; anonymous users go to the login page, others get 403."""

    allowed_roles: tuple[str, ...] = ("admin",)

    def is_accessible(self):
        return user_has_role(*self.allowed_roles)

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("security.login", next=request.full_path))
        abort(403)


class SecuredView(RoleRequired, BaseView):
    """A custom admin page (reports, workflows) that requires login and one of ``allowed_roles``."""


class SecuredIndexView(RoleRequired, AdminIndexView):
    allowed_roles = ALL_ROLES


class SecuredModelView(RoleRequired, LocalTimeMixin, ModelView):
    """A model view where creating and editing are granted to roles; deleting is off (records are archived).

    CSRF is enforced for every POST by Flask-WTF's CSRFProtect; the forms need no token field of their own.
    """

    create_roles: tuple = ()
    edit_roles: tuple = ()
    details_roles: tuple | None = None  # None: whoever can see the list
    form_base_class = PolicyAdminForm  # the input policy, on every model form
    can_delete = False
    can_export = False
    can_view_details = True
    page_size = 20
    can_set_page_size = False
    column_type_formatters = TYPE_FORMATTERS
    column_type_formatters_detail = TYPE_FORMATTERS

    @property
    def can_create(self):
        return user_has_role(*self.create_roles)

    @property
    def can_edit(self):
        return user_has_role(*self.edit_roles)

    def _refuse_unless(self, allowed):
        if not allowed:
            abort(403)

    def scaffold_form(self):
        """The model's form, with a one-time token so that a record is created once however often it is sent."""
        form_class = super().scaffold_form()
        form_class.once = HiddenField(default=new_token)
        return form_class

    def create_model(self, form):
        """Create the record in the transaction that claims the form's one-time token; a second submission of the
        same form (a double click, a replay) creates nothing and is told so."""
        try:
            claim(form.once.data if hasattr(form, "once") else None, f"{self.endpoint}.create", current_user)
        except AlreadyDone as exc:
            flash(str(exc), "warning")
            return False
        return super().create_model(form)

    @expose("/new/", methods=("GET", "POST"))
    @policy_form_view
    def create_view(self):
        self._refuse_unless(self.can_create)
        return super().create_view()

    @expose("/edit/", methods=("GET", "POST"))
    @policy_form_view
    def edit_view(self):
        self._refuse_unless(self.can_edit)
        return super().edit_view()

    @expose("/delete/", methods=("POST",))
    def delete_view(self):
        abort(403)

    def search_placeholder(self):
        """The searchable columns by their labels ("Start of Last Name, Email"), not their attribute names."""
        if not self.column_searchable_list:
            return None
        return "Start of " + ", ".join(self.get_column_name(getattr(c, "key", c)) for c in self.column_searchable_list)

    def _apply_search(self, query, count_query, joins, count_joins, search):
        """Each word of the search matches the start of a searchable column, case-insensitively and literally
        (``%``, ``_``, quotes and backslashes are plain characters); at most 5 words of 100 characters are used."""
        for term in search.split()[:5]:
            term = term[:100].lower()
            matches, count_matches = [], []
            for field, path in self._search_fields:
                query, joins, alias = self._apply_path_joins(query, joins, path, inner_join=False)
                matches.append(starts_with(field if alias is None else getattr(alias, field.key), term))
                if count_query is not None:
                    count_query, count_joins, count_alias = self._apply_path_joins(
                        count_query, count_joins, path, inner_join=False
                    )
                    count_matches.append(
                        starts_with(field if count_alias is None else getattr(count_alias, field.key), term)
                    )
            query = query.filter(db.or_(*matches))
            if count_query is not None:
                count_query = count_query.filter(db.or_(*count_matches))
        return query, count_query, joins, count_joins

    @expose("/ajax/lookup/")
    def ajax_lookup(self):
        return serve_lookup(self._form_ajax_refs)

    def _process_ajax_references(self):
        """The view's ``form_ajax_refs``, each of which must be a :class:`clinicadmin.forms.Lookup` (prefix search,
        capped pages, client lookups audited); a plain Flask-Admin loader stops start-up."""
        refs = super()._process_ajax_references()
        for name, found in refs.items():
            if not isinstance(found, Lookup):
                raise TypeError(
                    f"{type(self).__name__}.form_ajax_refs[{name!r}] must be a clinicadmin.forms lookup "
                    "(client_lookup(), product_lookup(...))"
                )
        return refs

    def get_one(self, id):
        """Fetch one record through ``get_query`` so that a list's row filters (archived, role) also bind details."""
        pk = self.model.__mapper__.primary_key[0]
        try:
            key = pk.type.python_type(id)
        except (TypeError, ValueError):
            return None
        return self.get_query().filter(pk == key).one_or_none()


def serve_lookup(loaders=None):
    """Answer a select2 lookup (GET ``name``, ``query``, ``offset``, ``limit``) as JSON, from the app's registered
    lookups (or a model view's ``loaders``).

    A lookup of clients is refused to roles that may not see them (stock clerks), whatever page asks, and each one
    answered is audited with its query and how many clients it returned. A term or page that cannot be searched is a
    400 whose JSON ``error`` says why.
    """
    name = request.args.get("name", "")
    found = (lookups() if loaders is None else loaders).get(name)
    if found is None:
        abort(404)
    if found.client_data and not user_has_role(*CLIENT_ROLES):
        abort(403)
    query = request.args.get("query", "")
    offset = request.args.get("offset", 0, type=int)
    try:
        rows = found.get_list(query, offset, request.args.get("limit", 0, type=int))
    except SearchRefused as exc:
        return Response(json.dumps({"error": str(exc)}), status=400, mimetype="application/json")
    if found.client_data:
        audit_read(
            "client.lookup",
            object_type="Client",
            detail={
                "lookup": name,
                "query": query[:100],
                "offset": offset,
                "results": len(rows),
                "clients": [row.id for row in rows],
            },
        )
    return Response(json.dumps([found.format(row) for row in rows]), mimetype="application/json")
