"""The one kind of resource every clinic has: a treatment room. Devices are registered by the plugins that use them."""

from clinicadmin.plugin_api import ResourceKind, hookimpl

TREATMENT_ROOM = "treatment_room"


@hookimpl
def register_resource_kinds():
    return [ResourceKind(TREATMENT_ROOM, "Treatment room", "A room where a session takes place.")]
