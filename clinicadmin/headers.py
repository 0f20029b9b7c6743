"""Response headers that protect every page: a Content-Security-Policy whose scripts need this response's nonce (no
``unsafe-inline`` scripts), no framing, no MIME sniffing, a strict referrer, no caching of admin pages, and, when the
clinic is served over https (``HTTPS``), HSTS."""

import base64
import hashlib
import secrets

from flask import g, request


def csp_nonce():
    """This response's script nonce (Flask-Admin puts it on the scripts it renders; templates use it too)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


#: How long a browser that saw the clinic over https refuses to reach it over http (two years).
HSTS_SECONDS = 2 * 365 * 24 * 3600

#: Inline handlers Flask-Admin's templates use on every site: its no-op links and its filter menu's items.
FLASK_ADMIN_HANDLERS = ("javascript:void(0)", "return false;")


def _inline_handler_hashes(admin):
    """Flask-Admin's templates put a few handlers in attributes (no-op links, filter items, "With selected" actions,
    the "Add <inline record>" buttons that call ``faForm.addInlineField``); each is allowed by its hash
    ('unsafe-hashes' for exactly these strings), never by allowing inline script."""
    handlers = set(FLASK_ADMIN_HANDLERS)
    for view in admin._views:
        for name in getattr(view, "_actions_data", None) or {}:
            if name != "delete" or getattr(view, "can_delete", False):  # nothing is deleted here
                handlers.add(f"return modelActions.execute('{name}');")
        for inline in getattr(view, "inline_models", None) or ():
            model = inline[0] if isinstance(inline, tuple) else inline
            for prop in view.model.__mapper__.relationships:
                if prop.mapper.class_ is model:
                    handlers.add(f"faForm.addInlineField(this, '{prop.key}');")
    return sorted("'sha256-" + base64.b64encode(hashlib.sha256(h.encode()).digest()).decode() + "'" for h in handlers)


def init_security_headers(app, admin):
    """Send the protective headers on every response of ``app``."""
    handler_hashes = _inline_handler_hashes(admin)
    script_extra = " 'unsafe-hashes' " + " ".join(handler_hashes) if handler_hashes else ""
    https = bool(app.config.get("HTTPS"))

    @app.after_request
    def security_headers(response):
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; "
            f"script-src 'self' 'nonce-{csp_nonce()}'{script_extra}; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if https:
            response.headers["Strict-Transport-Security"] = f"max-age={HSTS_SECONDS}"
        if not request.path.startswith(("/static", "/admin/static")):
            response.headers["Cache-Control"] = "no-store"
        return response
