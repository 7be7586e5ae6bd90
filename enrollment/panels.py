"""Sections that the apps above enrollment add to the participant page (a registry).

Enrollment cannot import the apps built on it; each registers its panel in its
`AppConfig.ready()`. A panel is `render(request, participant) -> str` (HTML, or "" to show
nothing), shown in `order`.
"""

from collections.abc import Callable

ParticipantPanel = Callable[..., str]

_PANELS: dict[str, tuple[int, ParticipantPanel]] = {}


def register_participant_panel(*, order: int, render: ParticipantPanel) -> None:
    _PANELS[f"{render.__module__}.{render.__qualname__}"] = (order, render)


def render_participant_panels(request, participant) -> list[str]:
    return [render(request, participant) for _order, render in sorted(_PANELS.values(), key=lambda p: p[0])]
