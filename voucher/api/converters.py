"""The ``<id:...>`` URL converter of the API: a whole number from 1 to ``ID_MAX``.  Anything else
(0, a negative number, a number beyond what the database can store) is simply no such object: 404,
never a database overflow."""
from __future__ import annotations

from werkzeug.routing import IntegerConverter

from voucher.schema_fields import ID_MAX


class IdConverter(IntegerConverter):
    regex = r"[0-9]+"  # ASCII digits only (``\d`` also matches other scripts' digits)

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, min=1, max=ID_MAX)


def id_param_schema(converter) -> dict:
    return {"type": "integer", "minimum": 1, "maximum": ID_MAX}
