"""The admin home page: the dashboard, and the panels each app registers.

The dashboard itself (figures, charts, filter, quick actions) is built by the top layer
(reporting.dashboard), which registers its builder with `@board`; core never imports it:
`board_for` finds it the way the admin finds admin.py, by importing each installed app's
`dashboard` module once (django.utils.module_loading.autodiscover_modules).

A panel is a function `(request) -> dict | None` returning
{"title", "headers", "rows", "link", "link_text", "empty"}; None hides it (for
instance when the user may not see that data).
"""

from django.utils.module_loading import autodiscover_modules

_panels: list[tuple[int, object]] = []
_boards: list = []
_discovered: list[bool] = []


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


def board(func):
    """Register the function `(request) -> dict` whose result the home page's template
    receives (its context); the key "dashboard_status" is the page's HTTP status."""
    _boards[:] = [func]
    return func


def board_for(request) -> dict:
    if not _discovered:
        autodiscover_modules("dashboard")
        _discovered.append(True)
    return _boards[0](request) if _boards else {}
