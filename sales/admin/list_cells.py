"""Changelist cells that fit 1366 px: the key value on the first line, detail on a
second, smaller line (the list's style: templates/admin/sales/list_style.html)."""

from django.utils.html import format_html
from django.utils.safestring import SafeString


def two_lines(first: object, second: object = "") -> SafeString:
    """`first`, and under it `second` in small grey text (nothing when empty)."""
    if not second:
        return format_html("{}", first)
    return format_html('{}<br><span class="hsh-sub">{}</span>', first, second)
