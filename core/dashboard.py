"""Panels on the admin home page. Each app registers the panels it owns.

A panel is a function `(request) -> dict | None` returning
{"title", "headers", "rows", "link", "link_text", "empty"}; None hides it (for
instance when the user may not see that data).
"""

_panels: list[tuple[int, object]] = []


def panel(order: int = 100):
    def register(func):
        _panels.append((order, func))
        return func

    return register


def panels_for(request) -> list[dict]:
    result = []
    for _, func in sorted(_panels, key=lambda item: item[0]):
        data = func(request)
        if data is not None:
            result.append(data)
    return result
