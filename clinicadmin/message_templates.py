"""The wording of messages to clients: the core's defaults, a manager's templates over them, and rendering.

A template is Jinja text rendered in an immutable sandbox with strict placeholders: it reads only the named text
values of :data:`PLACEHOLDERS` (never a model or any Python object), and a template that names anything else, reaches
for an attribute the sandbox forbids or does not parse is refused when it is saved, with the reason. Its work is
bounded too: no loop, macro, call or assignment, only :data:`SAFE_FILTERS`, repeating operators refused past
``MESSAGE_MAX_CHARS``, and a rendered text longer than that is refused when saved (with the longest values a message
may hold) and fails its message when sent.
"""

from flask import current_app
from jinja2 import StrictUndefined, TemplateError, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markupsafe import Markup

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

#: the only filters a template may apply: each returns at most a bounded multiple of its input, cheaply
SAFE_FILTERS = (
    "upper",
    "lower",
    "title",
    "capitalize",
    "trim",
    "default",
    "d",
    "e",
    "escape",
    "replace",
    "truncate",
    "striptags",
    "length",
    "first",
    "last",
)

#: what a template may be made of: text, placeholders, ``{% if %}``, and expressions over them; no loop, macro,
#: call, assignment or other template, so its work is bounded by its own length times its values' lengths
_ALLOWED_NODES = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Const,
    nodes.Name,
    nodes.If,
    nodes.CondExpr,
    nodes.Filter,
    nodes.Test,
    nodes.Concat,
    nodes.BinExpr,
    nodes.UnaryExpr,
    nodes.Compare,
    nodes.Operand,
    nodes.Getattr,
    nodes.Getitem,
    nodes.Slice,
    nodes.Tuple,
    nodes.List,
    nodes.Keyword,
)
_REFUSED_NODES = {
    nodes.For: "a loop ({% for %})",
    nodes.Macro: "a macro ({% macro %})",
    nodes.CallBlock: "a macro call ({% call %})",
    nodes.Call: "a call of a function or method",
    nodes.Assign: "an assignment ({% set %})",
    nodes.AssignBlock: "an assignment ({% set %})",
    nodes.With: "{% with %}",
    nodes.FilterBlock: "a filter block ({% filter %})",
}


class TemplateProblem(ValueError):
    """A template that cannot be used; the message says why, for the manager."""


class _TooLong(TemplateProblem):
    """A template step whose result would pass the length limit."""


#: the largest number a template may compute, in bits (about 300 digits): a message holds no larger one
MAX_NUMBER_BITS = 1024


def max_chars():
    """The most characters a rendered subject or text may hold (``MESSAGE_MAX_CHARS``)."""
    return int(current_app.config.get("MESSAGE_MAX_CHARS", 20_000))


def _too_long():
    return _TooLong(f"it would make a text longer than the limit of {max_chars()} characters")


class MessageSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox with every repeating operator bounded: ``*``, ``**``, ``%`` and ``+`` refuse a result
    above :func:`max_chars` before computing it (``%`` does no string formatting at all); calls are refused."""

    intercepted_binops = frozenset({"*", "**", "%", "+", "/", "//", "-"})

    def call_binop(self, context, operator, left, right):
        limit = max_chars()
        if operator == "%" and isinstance(left, str):
            raise TemplateProblem("%-formatting is not available in a message; write the placeholder itself")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int):
                    if len(seq) * max(times, 0) > limit:
                        raise _too_long()
        if operator == "+" and isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
            if len(left) + len(right) > limit:
                raise _too_long()
        if operator == "**" and isinstance(left, int) and isinstance(right, int):
            if right > 0 and abs(left) > 1 and (abs(left).bit_length() - 1) * right > MAX_NUMBER_BITS:
                raise _too_large()
        if operator == "*" and isinstance(left, int) and isinstance(right, int):
            if left.bit_length() + right.bit_length() > MAX_NUMBER_BITS + 1:
                raise _too_large()
        result = super().call_binop(context, operator, left, right)
        _check_size(result, limit)
        return result

    def call(self, __context, __obj, *args, **kwargs):
        raise SecurityError("a message calls no function or method")


def _too_large():
    return _TooLong("it would compute a number larger than a message may hold")


def _check_size(value, limit):
    if isinstance(value, int) and value.bit_length() > MAX_NUMBER_BITS:
        raise _too_large()
    if isinstance(value, str | list | tuple) and len(value) > limit:
        raise _too_long()


def _replace(value, old, new, count=None):
    """Jinja's ``replace``, refusing a result above :func:`max_chars` before computing it."""
    text, old, new = str(value), str(old), str(new)
    times = text.count(old) if old else len(text) + 1
    if count is not None:
        times = min(times, max(int(count), 0))
    if len(text) + times * (len(new) - len(old)) > max_chars():
        raise _too_long()
    result = text.replace(old, new, -1 if count is None else max(int(count), 0))
    return Markup(result) if isinstance(value, Markup) else result


_SANDBOX = MessageSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
_SANDBOX.globals.clear()  # no range, cycler, namespace ...: a template sees its placeholders and nothing else
_SANDBOX.filters = {name: _SANDBOX.filters[name] for name in SAFE_FILTERS} | {"replace": _replace}
_SAMPLE = {name: f"[{name}]" for name in PLACEHOLDERS}
#: the longest values a message is checked with when it is saved: a real clinic's longest name, address, aftercare
_LONG_LENGTHS = {"aftercare": 4000, "clinic_address": 300, "location_address": 300}
_LONG_SAMPLE = {name: ("Wx " * 2000)[: _LONG_LENGTHS.get(name, 100)] for name in PLACEHOLDERS}


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


def _refused_part(tree):
    """Why the parsed template ``tree`` may not be used (a loop, a call, a filter outside :data:`SAFE_FILTERS` ...),
    or None."""
    for node in [tree, *tree.find_all(nodes.Node)]:
        for kind, said in _REFUSED_NODES.items():
            if isinstance(node, kind):
                return f"uses {said}, which a message may not use: the placeholders are simple values"
        if not isinstance(node, _ALLOWED_NODES):
            return f"uses {type(node).__name__}, which a message may not use"
        if isinstance(node, nodes.Filter) and node.name not in _SANDBOX.filters:
            return (
                f"uses the filter {node.name}, which a message may not use; the filters are {', '.join(SAFE_FILTERS)}"
            )
    return None


def _render(source, values, what):
    try:
        tree = _SANDBOX.parse(source)
    except TemplateError as exc:
        raise TemplateProblem(f"The {what} cannot be read: {exc.message}.") from None
    except RecursionError:
        raise TemplateProblem(f"The {what} cannot be read: its brackets are nested too deeply.") from None
    except Exception as exc:  # a parser pushed past its limits: a bad template all the same
        raise TemplateProblem(f"The {what} cannot be read: {type(exc).__name__}: {exc}"[:300] + ".") from None
    refused = _refused_part(tree)
    if refused:
        raise TemplateProblem(f"The {what} {refused}.")
    try:
        names = meta.find_undeclared_variables(tree)
    except TemplateError as exc:
        raise TemplateProblem(f"The {what} cannot be read: {exc.message}.") from None
    except Exception as exc:
        raise TemplateProblem(f"The {what} cannot be read: {type(exc).__name__}: {exc}"[:300] + ".") from None
    unknown = sorted(names - set(PLACEHOLDERS))
    if unknown:
        raise TemplateProblem(
            f"The {what} uses {', '.join('{{ ' + n + ' }}' for n in unknown)}, which is not a placeholder; "
            f"the placeholders are {', '.join(PLACEHOLDERS)}."
        )
    try:
        text = _SANDBOX.from_string(tree).render(values)
    except TemplateProblem as exc:
        raise TemplateProblem(f"The {what} cannot be used: {exc}.") from None
    except SecurityError as exc:
        raise TemplateProblem(f"The {what} reaches for something a message may not use ({exc}).") from None
    except TemplateError as exc:
        raise TemplateProblem(f"The {what} cannot be used: {exc.message}.") from None
    except MemoryError:
        raise TemplateProblem(f"The {what} cannot be used: it needs more memory than a message may.") from None
    except Exception as exc:  # any other failure of a manager's template is the template's, never the caller's
        raise TemplateProblem(f"The {what} cannot be used: {type(exc).__name__}: {exc}"[:300] + ".") from None
    if len(text) > max_chars():
        raise TemplateProblem(
            f"The {what} would be {len(text)} characters long, more than the limit of {max_chars()} "
            "(MESSAGE_MAX_CHARS)."
        )
    return text


def check_template(subject, body):
    """Raise :class:`TemplateProblem` with the reason when ``subject`` or ``body`` cannot be rendered safely."""
    if not (body or "").strip():
        raise TemplateProblem("The message text is empty.")
    for sample in (_SAMPLE, _LONG_SAMPLE):  # short values, then the longest a real message may hold
        _render(subject or "", sample, "subject")
        _render(body, sample, "message text")


def render_message(kind, channel, values):
    """(subject, text) of ``kind`` on ``channel`` for ``values`` (text by placeholder name)."""
    subject, body = template_for(kind, channel)
    values = {name: str(values.get(name) or "") for name in PLACEHOLDERS}
    return " ".join(_render(subject or "", values, "subject").split())[:200], _render(body, values, "message text")
