"""The main menu, as a registry: each app adds its own pages in `AppConfig.ready()`.

The core cannot name pages of the apps above it; they register here instead. A page
appears only for a user whose role holds one of its permissions (None: everyone signed
in); the view checks the permission again on the server.
"""

from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class MenuItem:
    order: int
    label: str
    url_name: str
    permissions: tuple[str, ...] = ()


_MENU: dict[str, MenuItem] = {}


def register_menu_item(*, order: int, label, url_name: str, permissions: tuple[str, ...] = ()) -> None:
    _MENU[url_name] = MenuItem(order, label, url_name, permissions)


def menu_for(user) -> list[tuple[str, str]]:
    """(label, url) of the pages this user may open, in menu order."""
    items = sorted(_MENU.values(), key=lambda item: item.order)
    return [
        (item.label, reverse(item.url_name))
        for item in items
        if not item.permissions or any(user.has_perm(p) for p in item.permissions)
    ]


# Sections of the home page offered by apps above the core (e.g. the site worklist), per
# permission; `render(request) -> str`. Shown in place of the list of links for those users.
@dataclass(frozen=True)
class HomePanel:
    order: int
    render: object
    permissions: tuple[str, ...]


_HOME_PANELS: dict[str, HomePanel] = {}


def register_home_panel(*, name: str, order: int, render, permissions: tuple[str, ...]) -> None:
    _HOME_PANELS[name] = HomePanel(order, render, permissions)


def home_panels_for(request) -> list[str]:
    panels = sorted(_HOME_PANELS.values(), key=lambda panel: panel.order)
    return [panel.render(request) for panel in panels if any(request.user.has_perm(p) for p in panel.permissions)]


# What the apps above the clinical apps show on a record's own page (e.g. its data queries and
# source-data verification): a panel under the record, `render(request, record) -> str`, and a
# flag beside one displayed field, `flag(request, record, field) -> str` ("" for nothing).
_RECORD_PANELS: dict[str, object] = {}
_FIELD_FLAGS: dict[str, object] = {}


def register_record_annotations(*, name: str, panel=None, field_flag=None) -> None:
    if panel is not None:
        _RECORD_PANELS[name] = panel
    if field_flag is not None:
        _FIELD_FLAGS[name] = field_flag


def record_panels_for(request, record) -> list[str]:
    return [html for render in _RECORD_PANELS.values() if (html := render(request, record))]


def field_flags_for(request, record, field: str) -> list[str]:
    return [html for flag in _FIELD_FLAGS.values() if (html := flag(request, record, field))]
