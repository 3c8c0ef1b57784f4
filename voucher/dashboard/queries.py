"""What the start page shows per role.  Each domain contributes a panel provider through
:func:`register_panel` (the calls are in ``voucher.registries``, run by ``create_app``), so this
module does not reach into other domains' tables."""
from __future__ import annotations

from typing import Callable

from voucher.audit.services import Actor

_PROVIDERS: list[tuple[frozenset[str], Callable[[Actor], dict | None]]] = []


def register_panel(roles: set[str] | frozenset[str], provider: Callable[[Actor], dict | None]) -> None:
    """A provider returns {"title", "items": [(label, value)], "link": (endpoint, text)} or None.

    Called by ``voucher.registries`` (once per ``create_app``): the same provider for the same roles
    is kept once, so a second ``create_app`` in one process does not show a card twice."""
    entry = (frozenset(roles), provider)
    if entry not in _PROVIDERS:
        _PROVIDERS.append(entry)


def registered_panels() -> list[tuple[frozenset[str], Callable[[Actor], dict | None]]]:
    """Every (roles, provider) registered, in the order the start page shows them."""
    return list(_PROVIDERS)


def shared(key: tuple, compute: Callable[[], object]):
    """A figure that several cards of one start page need (the current programme, an enterprise's
    quota, the payable summary), computed once per start-page request: ``home`` opens the store;
    outside it (a service, a test) the figure is computed each time."""
    from flask import g, has_request_context

    store = g.get("_start_page_figures") if has_request_context() else None
    if store is None:
        return compute()
    if key not in store:
        store[key] = compute()
    return store[key]


def open_shared_figures() -> None:
    from flask import g

    g._start_page_figures = {}


def panels_for(actor: Actor) -> list[dict]:
    out = []
    for roles, provider in _PROVIDERS:
        if actor.role in roles:
            panel = provider(actor)
            if panel:
                out.append(panel)
    return out
