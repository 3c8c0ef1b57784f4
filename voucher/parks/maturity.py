"""The hook for the enterprises' digital-maturity levels (issue 20 §1, built elsewhere).

The park pages and the workbook show a column "Maturity level"; what fills it is a *provider*
registered here, never imported: ``register_maturity_provider(fn)`` where
``fn(enterprise_ids: list[int]) -> dict[int, str]`` answers each assessed enterprise's latest overall
level as the text to show (already translated).  Nothing registered: every cell is empty.
The maturity domain registers its provider (``maturity.queries.overall_level_texts``) in ``voucher/registries.py``.
"""
from __future__ import annotations

from typing import Callable, Iterable

MaturityProvider = Callable[[list[int]], dict[int, str]]

_PROVIDER: list[MaturityProvider] = []


def register_maturity_provider(provider: MaturityProvider | None) -> None:
    """Set (or, with None, clear) the one provider; registering again replaces it."""
    _PROVIDER.clear()
    if provider is not None:
        _PROVIDER.append(provider)


def maturity_levels(enterprise_ids: Iterable[int]) -> dict[int, str]:
    """The level text per enterprise id; {} when no provider is registered."""
    ids = list(enterprise_ids)
    if not _PROVIDER or not ids:
        return {}
    return dict(_PROVIDER[0](ids) or {})
