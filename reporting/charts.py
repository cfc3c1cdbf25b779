"""Small bar charts as inline SVG: no JavaScript, nothing fetched from elsewhere."""

from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import mark_safe

COLOURS = ["#417690", "#e0a14e", "#6aa84f", "#a64d79"]


def bar_chart(labels: list[str], series: dict[str, list], *, width=760, height=260):
    """Grouped bars, one group per label, one bar per series."""
    if not labels:
        return ""
    top = max((float(v or 0) for values in series.values() for v in values), default=0) or 1
    left, bottom, plot_h = 70, 40, height - 70
    group_w = (width - left - 10) / len(labels)
    bar_w = max(2, group_w * 0.8 / max(len(series), 1))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="chart">'
    ]
    for i in range(5):
        value = top * i / 4
        y = height - bottom - plot_h * i / 4
        parts.append(
            f'<line x1="{left}" x2="{width}" y1="{y:.0f}" y2="{y:.0f}" '
            f'stroke="#ddd"/><text x="{left - 6}" y="{y + 4:.0f}" font-size="11" '
            f'text-anchor="end">{_short(value)}</text>'
        )
    every = max(1, -(-len(labels) // 12))  # at most about twelve labels under the bars
    for g, label in enumerate(labels):
        x0 = left + g * group_w + group_w * 0.1
        for s, (name, values) in enumerate(series.items()):
            value = float(values[g] or 0)
            h = plot_h * value / top
            parts.append(
                f'<rect x="{x0 + s * bar_w:.1f}" y="{height - bottom - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}" fill="{COLOURS[s % len(COLOURS)]}">'
                f"<title>{escape(label)} {escape(name)}: {_short(value)}</title></rect>"
            )
        if g % every == 0:
            parts.append(
                f'<text x="{x0 + group_w * 0.4:.0f}" y="{height - bottom + 16}" '
                f'font-size="11" text-anchor="middle">{escape(label)}</text>'
            )
    for s, name in enumerate(series):
        parts.append(
            f'<rect x="{left + s * 110}" y="4" width="10" height="10" '
            f'fill="{COLOURS[s % len(COLOURS)]}"/><text x="{left + s * 110 + 14}" '
            f'y="13" font-size="12">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text part is escaped above


def _short(value):
    value = float(value if not isinstance(value, Decimal) else float(value))
    for limit, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}{suffix}"
    return f"{value:.0f}"
