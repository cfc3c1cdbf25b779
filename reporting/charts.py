"""Small charts as inline SVG: no JavaScript, nothing fetched from elsewhere.

Every chart is an accessible image: `role="img"`, an `aria-label` and a `<title>` naming
it, a legend in words, and each mark carries its own `<title>` (label, series, value).
Pages put the same figures in a table beside it (`<details>`) for screen readers.

- `bar_chart(labels, series, stacked=False)`: grouped (default) or stacked bars;
- `line_chart(labels, series)`: one line per series (trends);
- `hbar_chart(labels, values)`: horizontal bars, longest first as given (top-10 lists).

Labels under the x axis never overlap: when there are too many for the width they are
thinned out (every n-th shown, all kept in the marks' titles), and long ones are rotated.
Values on the axes read as money when `money=True` (through core.display).
"""

import math
from decimal import Decimal

from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from core import display

MAX_BAR = 60  # px: a bar of few groups stays a bar, not a block
COLOURS = ["#2f6690", "#c7662b", "#3a7d44", "#8e3b8a", "#6b6b6b", "#b8860b"]
FONT = 11
CHAR_W = 6.2  # average width of one character at FONT px, for fitting labels


def bar_chart(
    labels: list[str],
    series: dict[str, list],
    *,
    stacked: bool = False,
    width: int = 760,
    height: int = 260,
    title: str = "Chart",
    money: bool = False,
) -> SafeString | str:
    """Bars, one group per label: one bar per series side by side, or one stacked bar."""
    if not labels:
        return ""
    values = {name: [_num(v) for v in vals] for name, vals in series.items()}
    if stacked:
        top = max(sum(max(0, vals[i]) for vals in values.values()) for i in range(len(labels)))
    else:
        top = max((v for vals in values.values() for v in vals), default=0)
    top = _nice(top)
    rotate, every = _x_layout(labels, width)
    bottom = _bottom(labels, rotate)
    chart = _Frame(width, height, bottom, title, top, money)
    group_w = chart.plot_w / len(labels)
    bars = 1 if stacked else max(len(values), 1)
    bar_w = min(MAX_BAR, max(1.0, group_w * 0.8 / bars))
    for g, label in enumerate(labels):
        centre = chart.left + g * group_w + group_w / 2
        x0 = centre - bar_w * bars / 2
        base = 0.0
        for s, (name, vals) in enumerate(values.items()):
            value = vals[g]
            h = chart.plot_h * max(0.0, value) / top
            x = x0 if stacked else x0 + s * bar_w
            y = chart.y(0) - h - (chart.plot_h * base / top if stacked else 0)
            chart.parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{_colour(s)}"><title>{escape(label)}, {escape(name)}: '
                f"{escape(_value(value, money))}</title></rect>"
            )
            if stacked:
                base += max(0.0, value)
        if g % every == 0:
            chart.x_label(centre, label, rotate)
    chart.legend(list(values))
    return chart.svg()


def line_chart(
    labels: list[str],
    series: dict[str, list],
    *,
    width: int = 760,
    height: int = 260,
    title: str = "Trend",
    money: bool = False,
) -> SafeString | str:
    """One line with dots per series, a point per label (months of a trend)."""
    if not labels:
        return ""
    values = {name: [_num(v) for v in vals] for name, vals in series.items()}
    top = _nice(max((v for vals in values.values() for v in vals), default=0))
    rotate, every = _x_layout(labels, width)
    chart = _Frame(width, height, _bottom(labels, rotate), title, top, money)
    step = chart.plot_w / max(len(labels), 1)
    xs = [chart.left + step * (i + 0.5) for i in range(len(labels))]
    for s, (name, vals) in enumerate(values.items()):
        points = " ".join(f"{x:.1f},{chart.y(v / top):.1f}" for x, v in zip(xs, vals, strict=False))
        dash = ' stroke-dasharray="5 3"' if s else ""  # last year's line dashed
        chart.parts.append(
            f'<polyline points="{points}" fill="none" stroke="{_colour(s)}" '
            f'stroke-width="2"{dash}/>'
        )
        for i, (x, v) in enumerate(zip(xs, vals, strict=False)):
            chart.parts.append(
                f'<circle cx="{x:.1f}" cy="{chart.y(v / top):.1f}" r="3" fill="{_colour(s)}">'
                f"<title>{escape(labels[i])}, {escape(name)}: "
                f"{escape(_value(v, money))}</title></circle>"
            )
    for i, label in enumerate(labels):
        if i % every == 0:
            chart.x_label(xs[i], label, rotate)
    chart.legend(list(values))
    return chart.svg()


def hbar_chart(
    labels: list[str],
    values: list,
    *,
    width: int = 760,
    title: str = "Chart",
    money: bool = False,
) -> SafeString | str:
    """Horizontal bars, one row per label, the value written at the bar's end."""
    if not labels:
        return ""
    nums = [_num(v) for v in values]
    top = max(nums, default=0) or 1
    row_h, label_w = 24, min(260, int(max(len(x) for x in labels) * CHAR_W) + 12)
    height = row_h * len(labels) + 10
    value_w = 130
    plot_w = max(50, width - label_w - value_w)
    parts = [_open(width, height, title)]
    for i, (label, value) in enumerate(zip(labels, nums, strict=False)):
        y = 5 + i * row_h
        w = plot_w * max(0.0, value) / top
        text = _value(value, money)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 16}" font-size="{FONT}" text-anchor="end">'
            f"{escape(_fit(label, label_w))}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" '
            f'fill="{_colour(0)}"><title>{escape(label)}: {escape(text)}</title></rect>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 16}" font-size="{FONT}">'
            f"{escape(text)}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text part is escaped above


class _Frame:
    """The axes, grid and legend shared by the vertical charts."""

    def __init__(self, width, height, bottom, title, top, money):
        self.width, self.height, self.bottom = width, height + bottom - 40, bottom
        self.left, self.top_pad = (90 if money else 60), 28
        self.plot_w = width - self.left - 10
        self.plot_h = self.height - self.bottom - self.top_pad
        self.parts = [_open(width, self.height, title)]
        for i in range(5):
            y = self.y(i / 4)
            self.parts.append(
                f'<line x1="{self.left}" x2="{width}" y1="{y:.0f}" y2="{y:.0f}" stroke="#ddd"/>'
                f'<text x="{self.left - 6}" y="{y + 4:.0f}" font-size="{FONT}" '
                f'text-anchor="end">{escape(_axis(top * i / 4, money))}</text>'
            )

    def y(self, fraction: float) -> float:
        return self.height - self.bottom - self.plot_h * fraction

    def x_label(self, x: float, label: str, rotate: bool) -> None:
        y = self.height - self.bottom + 14
        if rotate:
            self.parts.append(
                f'<text x="{x:.0f}" y="{y}" font-size="{FONT}" text-anchor="end" '
                f'transform="rotate(-40 {x:.0f} {y})">{escape(_fit(label, 150))}</text>'
            )
        else:
            self.parts.append(
                f'<text x="{x:.0f}" y="{y}" font-size="{FONT}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )

    def legend(self, names: list[str]) -> None:
        x = self.left
        for s, name in enumerate(names):
            self.parts.append(
                f'<rect x="{x}" y="6" width="10" height="10" fill="{_colour(s)}"/>'
                f'<text x="{x + 14}" y="15" font-size="12">{escape(name)}</text>'
            )
            x += int(len(name) * 7) + 30

    def svg(self) -> SafeString:
        self.parts.append("</svg>")
        return mark_safe("".join(self.parts))  # noqa: S308 - every text part is escaped


def _open(width, height, title) -> str:
    t = escape(title)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
        f'viewBox="0 0 {width} {height:.0f}" role="img" aria-label="{t}" class="hsh-chart">'
        f"<title>{t}</title>"
    )


def _x_layout(labels: list[str], width: int) -> tuple[bool, int]:
    """(rotate, every): rotate long labels; show every n-th so shown labels never touch."""
    slot = (width - 70) / len(labels)
    longest = max(len(x) for x in labels) * CHAR_W + 8
    if longest <= slot:
        return False, 1
    rotate = longest > 8 * CHAR_W  # long labels turn; rotated, each needs a line's height
    need = (FONT * 1.6) if rotate else longest
    return rotate, max(1, -(-int(need) // max(1, int(slot))))


def _bottom(labels: list[str], rotate: bool) -> int:
    if not rotate:
        return 40
    return 30 + int(min(150, max(len(x) for x in labels) * CHAR_W) * 0.65)


def _fit(text: str, room: float) -> str:
    chars = max(4, int(room / CHAR_W))
    return text if len(text) <= chars else text[: chars - 1] + "…"


def _num(value) -> float:
    if value is None or value == "":
        return 0.0
    return float(value if not isinstance(value, Decimal) else float(value))


def _nice(top: float) -> float:
    """The axis' top: the least of 1, 2, 2.5, 5 x 10^n x 4 at or above `top`, so that its
    four steps read as round numbers (0, 2.5k, 5k, 7.5k, 10k)."""
    if top <= 0:
        return 1.0
    power = max(1, 10 ** math.floor(math.log10(top / 4)))  # whole-number steps
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power * 4 >= top)
    return step * 4


def _colour(i: int) -> str:
    return COLOURS[i % len(COLOURS)]


def _value(value: float, money: bool) -> str:
    if money:
        return display.money(Decimal(str(value)))
    return display.quantity(int(value)) if float(value).is_integer() else display.amount(value)


def _axis(value: float, money: bool) -> str:
    currency = getattr(settings, "CURRENCY", "") if money else ""
    return f"{currency} {_short(value)}".strip()


def _short(value) -> str:
    value = _num(value)
    for limit, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.2f}".rstrip("0").rstrip(".") + suffix
    return f"{value:.0f}"
