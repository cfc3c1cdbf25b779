"""The inline SVG charts: accessible, grouped or stacked, labels that never overlap."""

import itertools
import re

from django.test import override_settings

from reporting.charts import bar_chart, hbar_chart, line_chart


def _x_labels(svg):
    """(x, text, rotated) of the labels under the axis (those at the axis' y)."""
    found = re.findall(
        r'<text x="([\d.]+)" y="(\d+)" font-size="11" text-anchor="(\w+)"'
        r'( transform="[^"]+")?>([^<]*)</text>',
        svg,
    )
    axis_y = max(int(y) for _, y, *_ in found)
    return [(float(x), text, bool(rot)) for x, y, _, rot, text in found if int(y) == axis_y]


def test_bar_chart_is_an_accessible_image_with_a_legend():
    svg = bar_chart(["Jan", "Feb"], {"Cash": [10, 20], "Credit": [5, 7]}, title="Sales by kind")
    assert 'role="img"' in svg
    assert 'aria-label="Sales by kind"' in svg
    assert "<title>Sales by kind</title>" in svg
    assert ">Cash</text>" in svg
    assert ">Credit</text>" in svg
    assert svg.count("<rect") == 4 + 2  # four bars and two legend swatches


def test_grouped_bars_sit_side_by_side_and_stacked_bars_on_top_of_each_other():
    grouped = bar_chart(["A"], {"Full": [10], "Empty": [10]})
    stacked = bar_chart(["A"], {"Full": [10], "Empty": [10]}, stacked=True)

    def bars(svg):
        return re.findall(
            r'<rect x="([\d.]+)" y="([\d.]+)" width="[\d.]+" height="([\d.]+)" fill', svg
        )[:2]

    (gx1, gy1, _), (gx2, gy2, _) = bars(grouped)
    assert gx1 != gx2
    assert gy1 == gy2
    (sx1, sy1, sh1), (sx2, sy2, _) = bars(stacked)
    assert sx1 == sx2
    assert float(sy2) + float(sh1) == float(sy1)


def test_many_short_labels_are_thinned_so_they_never_overlap():
    labels = [f"{d:02d}" for d in range(1, 101)]
    shown = _x_labels(bar_chart(labels, {"Sales": list(range(100))}, width=400))
    assert 1 < len(shown) < 100
    xs = [x for x, _, _ in shown]
    assert all(
        b - a >= 2 * 6.2 + 8 for a, b in itertools.pairwise(xs)
    )  # two characters' room apart


def test_long_labels_are_rotated():
    labels = [f"Customer with a long name {i}" for i in range(12)]
    shown = _x_labels(bar_chart(labels, {"Amount": [1] * 12}))
    assert shown
    assert all(rotated for _, _, rotated in shown)


def test_line_chart_draws_a_line_per_series():
    svg = line_chart(["Nov 2025", "Dec 2025"], {"This year": [1, 2], "Last year": [2, 1]})
    assert svg.count("<polyline") == 2
    assert 'role="img"' in svg


@override_settings(CURRENCY="LKR")
def test_money_values_carry_the_currency_and_separators():
    svg = hbar_chart(["Acme Gas"], [12500], money=True, title="Top customers")
    assert "LKR 12,500.00" in svg
    assert 'aria-label="Top customers"' in svg
    assert "LKR 20k" in bar_chart(["A"], {"S": [50000]}, money=True)  # round steps to 80k


def test_text_is_escaped_and_empty_charts_are_empty():
    assert "&lt;b&gt;" in bar_chart(["<b>"], {"S": [1]})
    assert bar_chart([], {}) == ""
    assert line_chart([], {}) == ""
    assert hbar_chart([], []) == ""


def test_axis_steps_are_round_numbers():
    svg = line_chart(["Jan", "Feb"], {"Sales": [8200, 100]})
    ticks = re.findall(r'text-anchor="end">([^<]+)</text>', svg)
    assert ticks[:5] == ["0", "2.5k", "5k", "7.5k", "10k"]
    small = bar_chart(["A"], {"Sales": [1]})
    assert re.findall(r'text-anchor="end">([^<]+)</text>', small)[:5] == ["0", "1", "2", "3", "4"]
