"""Server-side SVG charts: no script, no CDN, readable by screen readers through their titles."""

from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import mark_safe

from .formatting import number_text

PALETTE = ["#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2"]  # also .swatch-N in app.css


def line_chart(series: dict[str, list[tuple[str, Decimal | None]]], title: str, height=180, width=560, top=100):
    labels = []
    for points in series.values():
        for label, _v in points:
            if label not in labels:
                labels.append(label)
    if not labels:
        return ""
    pad, n = 36, len(labels)
    step = (width - 2 * pad) / max(1, n - 1)
    first = pad if n > 1 else width / 2  # one cycle: its points in the middle, each with its value

    def xy(i, v):
        return first + i * step, height - pad - float(v) / top * (height - 2 * pad)

    parts = [f'<svg role="img" viewBox="0 0 {width} {height}" class="svg-chart"><title>{escape(title)}</title>']
    for g in (0, 50, 100):
        _x, y = xy(0, g)
        parts.append(
            f'<line x1="{pad}" x2="{width - pad}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="4" y="{y + 4:.1f}" class="axis">{g}</text>'
        )
    for i, label in enumerate(labels):
        x, _y = xy(i, 0)
        parts.append(f'<text x="{x:.1f}" y="{height - 10}" class="axis" text-anchor="middle">{escape(label)}</text>')
    for k, points in enumerate(series.values()):
        color = PALETTE[k % len(PALETTE)]
        values = dict(points)
        coords = [xy(i, values[lab]) for i, lab in enumerate(labels) if values.get(lab) is not None]
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, y in coords:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>')
        if n == 1 and coords and k == 0:  # one cycle: the first series' value beside its dot
            value = next(v for v in values.values() if v is not None)
            x, y = coords[0]
            parts.append(f'<text x="{x + 8:.1f}" y="{y + 4:.1f}" class="axis">{escape(number_text(value, 2))}</text>')
    parts.append("</svg>")
    legend = "".join(
        f'<span class="legend"><i class="swatch-{k % len(PALETTE)}"></i>{escape(name)}</span>'  # no inline style (CSP)
        for k, name in enumerate(series)
    )
    return mark_safe("".join(parts) + f'<div class="legends">{legend}</div>')


def bar_chart(bars: list[tuple[str, int]], title: str, width=560, bar_h=22):
    if not bars:
        return ""
    top = max(v for _l, v in bars) or 1
    height = bar_h * len(bars) + 10
    parts = [f'<svg role="img" viewBox="0 0 {width} {height}" class="svg-chart"><title>{escape(title)}</title>']
    for i, (label, value) in enumerate(bars):
        y = 5 + i * bar_h
        w = (width - 200) * value / top
        parts.append(
            f'<text x="0" y="{y + 15}" class="axis">{escape(label)}</text>'
            f'<rect x="150" y="{y + 3}" width="{w:.1f}" height="{bar_h - 8}" fill="{PALETTE[0]}"/>'
            f'<text x="{155 + w:.1f}" y="{y + 15}" class="axis">{value}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))
