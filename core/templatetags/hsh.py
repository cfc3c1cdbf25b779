"""Template filters for values as a clerk reads them (core.display):
`{% load hsh %}{{ sale.total_amount|money }}`, `{{ n|quantity }}`, `{{ when|moment }}`,
`{{ when|day }}`."""

from django import template

from core import display

register = template.Library()

register.filter("money", display.money)
register.filter("amount", display.amount)
register.filter("quantity", display.quantity)
register.filter("moment", display.moment)
register.filter("day", display.day)
