"""The plugin contract: every hook a ClinicAdmin plugin may implement. Documented one by one in docs/plugin-hooks.md."""
import pluggy

hookspec = pluggy.HookspecMarker("clinicadmin")


@hookspec
def register_modality():
    """Return the :class:`~clinicadmin.plugin_api.Modality` this plugin provides, or None.

    Called once at start-up. The modality's ``key`` must be unique across plugins.
    """


@hookspec
def register_qualifications():
    """Return a list of :class:`~clinicadmin.plugin_api.Qualification` (certifications that are not a modality).

    Called once at start-up. Managers certify staff for them like for a modality; a modality lists the ones it needs
    in ``Modality.requires``. Two plugins may register the same key only with the same label.
    """


@hookspec
def register_resource_kinds():
    """Return a list of :class:`~clinicadmin.plugin_api.ResourceKind` (a treatment room, a device).

    Called once at start-up. A modality lists the kinds a session takes in ``Modality.resources``; the clinic maps
    each kind to its rooms and devices per location. Two plugins may register the same key only with the same label.
    """


@hookspec
def register_conditions():
    """Return a list of :class:`~clinicadmin.plugin_api.ConditionCode` the plugin's checks read.

    Called once at start-up. A code is the plugin's own unless ``shared=True``; two plugins may register the same code
    only when both mark it shared and give it the same label, kind and ``dated`` flag.
    """


@hookspec
def register_settings():
    """Return a list of :class:`~clinicadmin.plugin_api.SettingSpec` (waiting periods, intervals) with defaults.

    Called once at start-up; a manager edits the values in Settings. Keys are conventionally ``<plugin>.<name>``.
    """


@hookspec
def treatment_form_fields(modality):
    """Return a dict of unbound WTForms fields for the details of a ``modality`` treatment, or None.

    Only the plugin that owns ``modality`` (a key) answers. The validated data is stored in ``Treatment.details``.
    """


@hookspec
def check_contraindications(treatment, history, settings):
    """Return a list of :class:`~clinicadmin.plugin_api.Finding` for ``treatment``, or None.

    Called on every plugin separately when a treatment is booked, reviewed and recorded; a plugin checks only the
    treatments it knows about. ``history`` is a :class:`~clinicadmin.screening.HealthHistory` of the client as of
    the treatment's date; ``settings`` maps setting keys to the clinic's values. An exception blocks the treatment.
    """


@hookspec
def consumables(treatment):
    """Return a list of :class:`~clinicadmin.plugin_api.Consumption` that recording ``treatment`` uses up, or None.

    Called when a treatment is recorded as performed, inside the transaction that stores it.
    """


@hookspec
def treatment_recorded(treatment):
    """Store what the plugin keeps about a treatment just recorded as performed, in its own tables; return None.

    Called on every plugin inside the recording transaction, after the stock is consumed and before the commit, so
    what a plugin adds commits or rolls back with the treatment. An exception refuses the recording, naming the plugin.
    """


@hookspec(firstresult=True)
def aftercare(treatment):
    """Return the aftercare instructions for ``treatment`` as a list of strings, or None if not the owner.

    The first non-None answer is used; it is printed for the client.
    """


@hookspec
def register_reports():
    """Return a list of :class:`~clinicadmin.plugin_api.Report` to add to the Reports menu.

    Called once at start-up. Each report's ``roles`` lists who may run it.
    """


@hookspec
def register_migrations():
    """Return the folder of the plugin's own Alembic revisions (a path), or None if the plugin has no tables.

    Called once at start-up. The folder's revisions form a branch labelled with the plugin's name whose root
    ``depends_on`` a core revision; ``clinicadmin db upgrade`` applies the core's and every loaded plugin's branch.
    """


@hookspec
def register_admin_views():
    """Return a list of Flask-Admin views to add, each an instance of ``clinicadmin.admin.base.SecuredView``.

    Called once at start-up. Views of any other class are refused, so that every page requires login and a role.
    """


@hookspec
def demo_data(demo):
    """Add the plugin's demo records (its products, lots, past treatments) through ``demo``, a DemoContext.

    Called by ``clinicadmin demo-data`` after the core's demo clinic exists; must be idempotent (look before adding).
    """


# --- Vocabularies a plugin grows: product categories and client fields (issue 16, item 4) ---


@hookspec
def register_product_categories():
    """Return a list of :class:`~clinicadmin.plugin_api.ProductCategory` products may be filed under.

    Called once at start-up. Products are filed under a registered category; a ``ProductField`` names the categories
    it offers, each one registered or start-up stops naming the plugin. Two plugins may register the same key only
    with the same label.
    """


@hookspec
def register_client_fields():
    """Return a list of :class:`~clinicadmin.plugin_api.ClientField`: facts kept on the client, not on a session.

    Called once at start-up. The fields appear on the client's form and details; checks read them through
    ``history.client_field(key)``. Two plugins may register the same key only with the same label and choices.
    """
