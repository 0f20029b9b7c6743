"""The wording of messages to clients: the core's defaults, a manager's templates over them, and rendering.

A template is Jinja text rendered in an immutable sandbox with strict placeholders: it reads only the named text
values of :data:`PLACEHOLDERS` (never a model or any Python object), and a template that names anything else, reaches
for an attribute the sandbox forbids or does not parse is refused when it is saved, with the reason.
"""

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from .extensions import db
from .models import MessageTemplate

KIND_LABELS = {"booking_reminder": "Booking reminder", "aftercare": "Aftercare"}

#: every value a template may use, with what it holds; each is plain text
PLACEHOLDERS = {
    "client_first_name": "the client's first name",
    "client_name": "the client's full name",
    "clinic_name": "the clinic's name",
    "clinic_phone": "the clinic's phone number",
    "clinic_address": "the clinic's address",
    "treatment": "what the session is (the modality's name)",
    "practitioner": "who sees the client",
    "location": "where (the location's name)",
    "location_address": "the location's address",
    "date": "the day of the session at the location (Thursday 3 December 2026)",
    "time": "the time of the session at the location (14:30)",
    "time_zone": "the location's time zone (Europe/London)",
    "aftercare": "the aftercare instructions of the session's modality (aftercare messages only)",
}

#: the wording used until a manager saves one: (kind, channel) -> (subject, body); channel None is any channel
#: without its own (a text message: short, no subject)
DEFAULT_TEMPLATES = {
    ("booking_reminder", "email"): (
        "Your appointment at {{ clinic_name }} on {{ date }}",
        "Dear {{ client_first_name }},\n\n"
        "This is a reminder of your {{ treatment }} appointment with {{ practitioner }} on {{ date }} at {{ time }} "
        "({{ time_zone }}) at {{ location }}.\n\n"
        "If you cannot come, please call us{% if clinic_phone %} on {{ clinic_phone }}{% endif %}.\n\n"
        "{{ clinic_name }}",
    ),
    ("booking_reminder", None): (
        "",
        "{{ clinic_name }}: reminder of your appointment on {{ date }} at {{ time }} at {{ location }}."
        "{% if clinic_phone %} To change it call {{ clinic_phone }}.{% endif %}",
    ),
    ("aftercare", "email"): (
        "Aftercare after your {{ treatment }} at {{ clinic_name }}",
        "Dear {{ client_first_name }},\n\n"
        "Thank you for your visit on {{ date }}. Please follow this aftercare:\n\n{{ aftercare }}\n\n"
        "If anything worries you, call us{% if clinic_phone %} on {{ clinic_phone }}{% endif %}.\n\n"
        "{{ clinic_name }}",
    ),
    ("aftercare", None): ("", "{{ clinic_name }} aftercare: {{ aftercare }}"),
}

_SANDBOX = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
_SANDBOX.globals.clear()  # no range, cycler, namespace ...: a template sees its placeholders and nothing else
_SAMPLE = {name: f"[{name}]" for name in PLACEHOLDERS}


class TemplateProblem(ValueError):
    """A template that cannot be used; the message says why, for the manager."""


def default_template(kind, channel):
    """The core's (subject, body) for ``kind`` on ``channel``."""
    return DEFAULT_TEMPLATES.get((kind, channel)) or DEFAULT_TEMPLATES[(kind, None)]


def saved_template(kind, channel):
    """The manager's :class:`MessageTemplate` for ``kind`` on ``channel``, or None."""
    return db.session.execute(
        db.select(MessageTemplate).where(MessageTemplate.kind == kind, MessageTemplate.channel == channel)
    ).scalar_one_or_none()


def template_for(kind, channel):
    """(subject, body) in force for ``kind`` on ``channel``: the manager's, else the default."""
    saved = saved_template(kind, channel)
    return (saved.subject, saved.body) if saved is not None else default_template(kind, channel)


def _render(source, values, what):
    try:
        names = meta.find_undeclared_variables(_SANDBOX.parse(source))
    except TemplateError as exc:
        raise TemplateProblem(f"The {what} cannot be read: {exc.message}.") from None
    unknown = sorted(names - set(PLACEHOLDERS))
    if unknown:
        raise TemplateProblem(
            f"The {what} uses {', '.join('{{ ' + n + ' }}' for n in unknown)}, which is not a placeholder; "
            f"the placeholders are {', '.join(PLACEHOLDERS)}."
        )
    try:
        return _SANDBOX.from_string(source).render(values)
    except SecurityError as exc:
        raise TemplateProblem(f"The {what} reaches for something a message may not use ({exc}).") from None
    except TemplateError as exc:
        raise TemplateProblem(f"The {what} cannot be used: {exc.message}.") from None
    except (ArithmeticError, TypeError, ValueError) as exc:
        raise TemplateProblem(f"The {what} cannot be used: {exc}.") from None


def check_template(subject, body):
    """Raise :class:`TemplateProblem` with the reason when ``subject`` or ``body`` cannot be rendered safely."""
    if not (body or "").strip():
        raise TemplateProblem("The message text is empty.")
    _render(subject or "", _SAMPLE, "subject")
    _render(body, _SAMPLE, "message text")


def render_message(kind, channel, values):
    """(subject, text) of ``kind`` on ``channel`` for ``values`` (text by placeholder name)."""
    subject, body = template_for(kind, channel)
    values = {name: str(values.get(name) or "") for name in PLACEHOLDERS}
    return " ".join(_render(subject or "", values, "subject").split())[:200], _render(body, values, "message text")
