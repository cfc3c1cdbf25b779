"""What the admin header's search finds in billing (core.search): a customer statement by
its number (ST- and its id: the number is the id, so only the whole number finds it)."""

import re
from typing import Any

from billing.models import CustomerStatement
from core import display
from core.scoping import scope_queryset
from core.search import Group, grouped, kind, may_view

STATEMENT = re.compile(r"^ST-?([0-9]{1,12})$")


@kind(order=100)
def statements(user: Any, text: str) -> Group | None:
    found = STATEMENT.match(text.upper().replace(" ", ""))
    if found is None or not may_view(user, CustomerStatement):
        return None
    queryset = scope_queryset(
        CustomerStatement.objects.filter(pk=int(found.group(1))), user, "customer__depot"
    ).select_related("customer")
    return grouped(
        "Customer statements",
        CustomerStatement,
        list(queryset),
        lambda s: (
            f"{s.number} · {s.customer.code} {s.customer.name} · "
            f"{display.day(s.date_from)} to {display.day(s.date_to)}"
        ),
        lambda s: True,
        text,
        search_list=False,
    )
