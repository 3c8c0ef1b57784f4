"""Domain exceptions.

Services raise these to refuse; they carry the figures the user must see.  Views turn them
into a field message or a flash, the API into one JSON error shape.  ``message`` is an
English template translated at the edge (``lazy_gettext`` is not used here so services stay
free of Flask); ``params`` fill it.
"""
from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    """Marks an English message for translation where it is defined (babel extracts it); it is
    translated where it is shown (a page, an e-mail, the API), in that reader's language."""
    return message


class DomainError(Exception):
    status = 422
    code = "domain_error"

    def __init__(self, message: str, *, field: str | None = None,
                 fields: dict[str, str] | None = None, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params
        self.fields = dict(fields or {})
        if field:
            self.fields.setdefault(field, message)
        self.field = field

    def render(self, translate=None) -> str:
        text = translate(self.message) if translate else self.message
        try:
            return text % self.params if self.params else text
        except (KeyError, TypeError, ValueError):
            return text

    def field_messages(self, translate=None) -> dict[str, str]:
        """Each field's message, translated and filled with this error's figures."""
        out = {}
        for name, template in self.fields.items():
            text = translate(template) if translate else template
            try:
                out[name] = text % self.params if self.params else text
            except (KeyError, TypeError, ValueError):
                out[name] = text
        return out

    def __str__(self) -> str:
        return self.render()


class ValidationFailed(DomainError):
    code = "validation_failed"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Duplicate(Conflict):
    code = "duplicate"


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"


class OverCap(DomainError):
    code = "over_cap"


class BudgetExhausted(DomainError):
    code = "budget_exhausted"


class SameApprover(Forbidden):
    code = "same_approver"
