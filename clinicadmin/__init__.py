"""ClinicAdmin: an admin panel for aesthetic clinics whose treatment modalities are pluggy plugins."""

import pluggy

#: Decorator for plugin hook implementations (``@hookimpl def register_modality(): ...``).
hookimpl = pluggy.HookimplMarker("clinicadmin")

__all__ = ["hookimpl", "create_app"]


def create_app(config=None):
    """Build the Flask application; see :func:`clinicadmin.app.create_app`."""
    from .app import create_app as _create_app

    return _create_app(config)
