"""Charts drawn on the server as inline SVG: no JavaScript and no CDN, so they work offline and print as drawn.

``svg(chart)`` turns a :class:`clinicadmin.plugin_api.Chart` into markup; every label and name is escaped.
"""

import math

from markupsafe import Markup

from .plugin_api import Chart

PALETTE = ("#2c7fb8", "#e6550d", "#31a354", "#756bb1", "#d62728", "#636363", "#dd1c77", "#17becf")
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 14, 30
LEGEND_ROW = 18
MAX_X_LABELS = 14


def nice_step(value):
    """The smallest of 1, 2 or 5 times a power of ten that is at least ``value``: a gridline step that reads well."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def axis(largest, whole=False):
    """Gridline values from 0 to at least ``largest`` in at most five or so steps; whole steps for ``whole`` numbers
    (counts)."""
    step = nice_step(largest / 5) if largest > 0 else 1
    if whole:
        step = max(step, 1)
    top = step * max(math.ceil(largest / step), 1)
    return [step * i for i in range(round(top / step) + 1)]


def _number(value):
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:,.3g}"


def _float(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def svg(chart, width=720, height=260, title=""):
    """The chart as an ``<svg>`` element sized ``width`` x ``height`` (it scales down with the page)."""
    series = [(str(name), [_float(v) for v in values]) for name, values in chart.series]
    legend_height = LEGEND_ROW if len(series) > 1 else 0
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM - legend_height
    known = [v for _, values in series for v in values if v is not None]
    ticks = axis(max(known + [0]), whole=all(v == int(v) for v in known))
    top_value = ticks[-1]
    count = max(len(chart.labels), 1)
    slot = plot_w / count

    def y(value):
        return TOP + plot_h - (value / top_value) * plot_h

    parts = [
        Markup(
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {w} {h}" '
            'width="{w}" height="{h}" aria-label="{label}">'
        ).format(w=width, h=height, label=title or chart.y_label or "chart")
    ]
    if title:
        parts.append(Markup("<title>{}</title>").format(title))
    for value in ticks:  # gridlines and the y axis's values
        parts.append(
            Markup(
                '<line x1="{x1}" x2="{x2}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                '<text x="{tx}" y="{ty:.1f}" class="tick" text-anchor="end">{v}</text>'
            ).format(x1=LEFT, x2=width - RIGHT, y=y(value), tx=LEFT - 6, ty=y(value) + 4, v=_number(value))
        )
    if chart.y_label:
        parts.append(
            Markup(
                '<text x="12" y="{y:.1f}" class="axis-label" transform="rotate(-90 12 {y:.1f})" '
                'text-anchor="middle">{t}</text>'
            ).format(y=TOP + plot_h / 2, t=chart.y_label)
        )
    every = math.ceil(count / max(1, min(MAX_X_LABELS, plot_w // 64)))  # labels about 60 px wide never overlap
    for i, label in enumerate(chart.labels):
        if i % every == 0:
            parts.append(
                Markup('<text x="{x:.1f}" y="{y}" class="tick" text-anchor="middle">{t}</text>').format(
                    x=LEFT + slot * (i + 0.5), y=TOP + plot_h + 16, t=str(label)
                )
            )
    if chart.kind == "bar":
        parts.extend(_bars(series, chart.labels, slot, y, TOP + plot_h))
    else:
        parts.extend(_lines(series, chart.labels, slot, y))
    if legend_height:
        x = LEFT
        for n, (name, _) in enumerate(series):
            parts.append(
                Markup(
                    '<rect x="{x}" y="{y}" width="10" height="10" fill="{c}"/>'
                    '<text x="{tx}" y="{ty}" class="legend">{t}</text>'
                ).format(x=x, y=height - 12, c=PALETTE[n % len(PALETTE)], tx=x + 14, ty=height - 3, t=name)
            )
            x += 24 + 7 * len(name)
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def _bars(series, labels, slot, y, baseline):
    width = slot * 0.8 / max(len(series), 1)
    for n, (name, values) in enumerate(series):
        for i, value in enumerate(values):
            if not value:
                continue
            x = LEFT + slot * i + slot * 0.1 + width * n
            yield Markup(
                '<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{c}">'
                "<title>{name}, {label}: {v}</title></rect>"
            ).format(
                x=x,
                y=y(value),
                w=max(width - 1, 1),
                h=baseline - y(value),
                c=PALETTE[n % len(PALETTE)],
                name=name,
                label=str(labels[i]),
                v=_number(value),
            )


def _lines(series, labels, slot, y):
    for n, (name, values) in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        points = [(LEFT + slot * (i + 0.5), y(v), i, v) for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            yield Markup('<polyline fill="none" stroke="{c}" stroke-width="2" points="{p}"/>').format(
                c=colour, p=" ".join(f"{px:.1f},{py:.1f}" for px, py, _, _ in points)
            )
        for px, py, i, v in points:
            yield Markup(
                '<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{c}"><title>{name}, {label}: {v}</title></circle>'
            ).format(x=px, y=py, c=colour, name=name, label=str(labels[i]), v=_number(v))


#: What a plugin may import from here: the chart a report returns (the same class as ``plugin_api.Chart``), and
#: ``svg`` to draw one on a page of its own (docs/plugin-hooks.md).
__all__ = ["Chart", "svg"]
