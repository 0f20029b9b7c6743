"""A modality's diagrams (:class:`clinicadmin.plugin_api.Diagram`) drawn on the server as inline SVG.

On the recording form a diagram mirrors its tick-list (``diagrams.js`` ticks a code when its shape is tapped) and marks
what screening forbids for the booked client; on a treatment's record it shows what was done. Every text is escaped,
shapes carry classes only (no ``style``), so the drawing holds under the strict Content-Security-Policy and prints.
"""

import logging
from collections.abc import Mapping

from markupsafe import Markup, escape

from .clinic_settings import effective_settings
from .plugins import each_implementation, registry
from .screening import history_for

log = logging.getLogger(__name__)
POINT_RADIUS = 4.5


def _number(value):
    return f"{value:g}"


def _shape(shape, classes, title):
    attrs = f'class="{" ".join(classes)}" data-code="{escape(shape.code)}"'
    if hasattr(shape, "path"):
        element = f'<path {attrs} d="{escape(shape.path)}">'
        end = "</path>"
    else:
        element = f'<circle {attrs} cx="{_number(shape.x)}" cy="{_number(shape.y)}" r="{POINT_RADIUS}">'
        end = "</circle>"
    return f"{element}<title>{escape(title)}</title>{end}"


def draw(diagram, chosen=(), marks=None, codes=None, field_id=None):
    """The SVG figure of ``diagram`` with the ``chosen`` codes filled and the ``marks`` ({code: why}) drawn as
    forbidden. ``codes``, when given, are the codes its field offers: a shape with any other code is left out.
    With ``field_id`` (the tick-list's form name) the figure is the form's: tapping a shape ticks its code, and the
    picture is hidden from screen readers, whose control is the tick-list; without, it is a record, read as a list
    of what was done."""
    marks = marks or {}
    chosen = list(dict.fromkeys(str(code) for code in chosen or ()))  # in the order recorded
    shapes = [s for s in diagram.shapes if codes is None or s.code in codes]
    labels = {s.code: s.label or s.code for s in shapes}
    x, y, width, height = diagram.viewbox
    parts = []
    done = [labels[code] for code in chosen if code in labels]
    if field_id:
        parts.append(
            f'<figure class="diagram diagram-form" data-field="{escape(field_id)}">'
            f'<svg class="diagram-svg" viewBox="{x} {y} {width} {height}" aria-hidden="true" focusable="false">'
        )
    else:
        read = f"{diagram.label}: " + (", ".join(done) if done else "none")
        parts.append(
            f'<figure class="diagram diagram-record">'
            f'<svg class="diagram-svg" viewBox="{x} {y} {width} {height}" role="img" aria-label="{escape(read)}">'
        )
    parts.append('<g class="diagram-outline">')
    parts.extend(f'<path d="{escape(path)}"></path>' for path in diagram.outline)
    parts.append("</g>")
    for cx, cy, text in diagram.captions:
        parts.append(
            f'<text class="diagram-caption" x="{_number(cx)}" y="{_number(cy)}" text-anchor="middle">'
            f"{escape(text)}</text>"
        )
    parts.append('<g class="diagram-shapes">')
    for shape in shapes:
        classes = ["diagram-shape", "diagram-region" if hasattr(shape, "path") else "diagram-point"]
        title = labels[shape.code]
        if shape.code in chosen:
            classes.append("chosen")
        if shape.code in marks:
            classes.append("forbidden")
            title = f"{title}: {marks[shape.code]}"
        parts.append(_shape(shape, classes, title))
    if not field_id:  # a record names the points done beside them, so the printed page reads without hovering
        for shape in shapes:
            if shape.code in chosen and not hasattr(shape, "path"):
                parts.append(
                    f'<text class="diagram-code" x="{_number(shape.x + POINT_RADIUS + 1)}" '
                    f'y="{_number(shape.y + 2)}">{escape(shape.code)}</text>'
                )
    parts.append("</g></svg>")
    parts.append(f'<figcaption class="diagram-legend"><strong>{escape(diagram.label)}</strong>')
    if field_id:
        parts.append(
            '<span class="diagram-key"><span class="diagram-swatch chosen"></span> ticked</span>'
            '<span class="diagram-key"><span class="diagram-swatch forbidden"></span> forbidden for this client</span>'
            '<span class="diagram-hint">Tap a point or area to tick it in the list below.</span>'
        )
        forbidden = [code for code in dict.fromkeys(s.code for s in shapes) if code in marks]
        if forbidden:
            parts.append('<ul class="diagram-forbidden">')
            parts.extend(f"<li>{escape(labels[code])}: {escape(marks[code])}</li>" for code in forbidden)
            parts.append("</ul>")
    else:
        parts.append(f'<span class="diagram-done">{escape(", ".join(done) if done else "none")}</span>')
    parts.append("</figcaption></figure>")
    return Markup("".join(parts))


def screening_marks(treatment):
    """({code: why}, [plugins that failed]) from every plugin's ``diagram_marks`` for ``treatment``; a plugin that
    fails or answers with something other than {text: text} is named, and its marks are left out."""
    reg = registry()
    history = history_for(treatment)
    marks, failed = {}, []
    for name, answer, error in each_implementation(
        reg.pm, "diagram_marks", treatment=treatment, history=history, settings=effective_settings()
    ):
        try:
            if error is not None:
                raise error
            if answer is None:
                continue
            if not isinstance(answer, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in answer.items()
            ):
                raise TypeError(f"returned {answer!r}, not a dict of text")
        except Exception as exc:
            log.error("diagram marks of plugin %s failed", name, exc_info=exc)
            failed.append(reg.plugin_label(name))
            continue
        for code, why in answer.items():
            marks[code] = f"{marks[code]}; {why}" if code in marks else why
    return marks, failed


def modality_diagrams(modality):
    """The diagrams of the loaded modality ``modality`` (none when no loaded plugin provides it)."""
    found = registry().modalities.get(modality)
    return tuple(getattr(found, "diagrams", ()) or ())


def form_diagrams(treatment, details_form, marks):
    """{field name: figures}: the diagrams of the treatment's modality whose field is a tick-list of the form, side by
    side, keyed by the first such field (the form draws them above it, and the tick-lists below)."""
    figures, first = [], None
    for diagram in modality_diagrams(treatment.modality):
        field = details_form._fields.get(diagram.field)
        if field is None or not hasattr(field, "iter_choices") or not isinstance(field.data or [], list):
            log.error("diagram %s names %r, not a tick-list of the form", diagram.key, diagram.field)
            continue
        codes = {str(choice[0]) for choice in field.iter_choices()}
        figures.append(draw(diagram, chosen=field.data or (), marks=marks, codes=codes, field_id=field.name))
        first = first or diagram.field
    if not figures:
        return {}
    return {first: Markup('<div class="diagrams">') + Markup("").join(figures) + Markup("</div>")}


def record_diagrams(treatment):
    """The figures of what was done in ``treatment``: each of its modality's diagrams whose field holds a list."""
    details = treatment.details or {}
    return [
        draw(diagram, chosen=details[diagram.field])
        for diagram in modality_diagrams(treatment.modality)
        if isinstance(details.get(diagram.field), list)
    ]
