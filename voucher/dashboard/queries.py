"""What the start page shows per role.  Each domain contributes a panel provider through
:func:`register_panel`, so this module does not reach into other domains' tables."""
from __future__ import annotations

from typing import Callable

from voucher.audit.services import Actor

_PROVIDERS: list[tuple[frozenset[str], Callable[[Actor], dict | None]]] = []


def register_panel(roles: set[str] | frozenset[str], provider: Callable[[Actor], dict | None]) -> None:
    """A provider returns {"title", "items": [(label, value)], "link": (endpoint, text)} or None."""
    _PROVIDERS.append((frozenset(roles), provider))


def panels_for(actor: Actor) -> list[dict]:
    out = []
    for roles, provider in _PROVIDERS:
        if actor.role in roles:
            panel = provider(actor)
            if panel:
                out.append(panel)
    return out
