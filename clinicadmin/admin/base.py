"""The one base for every admin view: login and a role are required, and actions are granted per role.

No view opts in to security by itself; ``register_admin_views`` refuses plugin views that do not derive from here.
"""
import json
from datetime import date, datetime

from flask import Response, abort, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.model import typefmt
from flask_security import current_user

from ..extensions import db
from ..forms import loader, starts_with
from ..input_policy import PolicyAdminForm, policy_form_view

ALL_ROLES = ("admin", "manager", "practitioner", "front_desk", "stock_clerk")

#: Dates and times as a clinic reads them: to the minute, no microseconds.
TYPE_FORMATTERS = {
    **typefmt.BASE_FORMATTERS,
    datetime: lambda view, value, name: value.strftime("%Y-%m-%d %H:%M"),
    date: lambda view, value, name: value.isoformat(),
}


def user_has_role(*roles):
    return bool(current_user.is_authenticated and current_user.active and current_user.role_names & set(roles))


class RoleRequired:
    """Grants the view to ``allowed_roles``; anonymous users go to the login page, others get 403."""

    allowed_roles: tuple = ("admin",)

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


class SecuredModelView(RoleRequired, ModelView):
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
                    count_query, count_joins, count_alias = self._apply_path_joins(count_query, count_joins, path,
                                                                                   inner_join=False)
                    count_matches.append(starts_with(field if count_alias is None else getattr(count_alias, field.key),
                                                     term))
            query = query.filter(db.or_(*matches))
            if count_query is not None:
                count_query = count_query.filter(db.or_(*count_matches))
        return query, count_query, joins, count_joins

    def get_one(self, id):
        """Fetch one record through ``get_query`` so that a list's row filters (archived, role) also bind details."""
        pk = self.model.__mapper__.primary_key[0]
        try:
            key = pk.type.python_type(id)
        except (TypeError, ValueError):
            return None
        return self.get_query().filter(pk == key).one_or_none()


def serve_lookup():
    """Answer a select2 lookup (GET ``name``, ``query``) from a registered client or product loader, as JSON.

    Client lookups are refused to roles that may not see clients (stock clerks), whatever page asks.
    """
    name = request.args.get("name", "")
    found = loader(name)
    if found is None:
        abort(404)
    if name == "client" and not user_has_role("admin", "manager", "practitioner", "front_desk"):
        abort(403)
    items = [
        found.format(m)
        for m in found.get_list(request.args.get("query", ""), request.args.get("offset", 0, type=int),
                                request.args.get("limit", 20, type=int))
    ]
    return Response(json.dumps(items), mimetype="application/json")
