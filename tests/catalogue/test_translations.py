"""Every English string of the catalogue (pages, forms, service messages, notifications) has
its Simplified Chinese translation in one of the fragments."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.extract import extract_from_file

from voucher.i18n import merged_catalog

ROOT = Path(__file__).resolve().parents[2]
RAISED = {"ValidationFailed", "Forbidden", "Conflict", "NotFound", "TransitionNotAllowed", "notify_role",
          "notify_organisation"}


def catalogue_msgids() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((ROOT / "templates/catalogue").glob("*.html")) + sorted((ROOT / "voucher/catalogue").glob("*.py")):
        method = "jinja2" if path.suffix == ".html" else "python"
        for lineno, message, _comments, _context in extract_from_file(method, str(path)):
            found.setdefault(message if isinstance(message, str) else message[0], f"{path.name}:{lineno}")
        if path.suffix == ".py":
            source = path.read_text(encoding="utf-8")
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Call):
                    name = getattr(node.func, "id", None) or getattr(node.func, "attr", "")
                    if name in RAISED:
                        for arg in node.args:
                            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and " " in arg.value:
                                found.setdefault(arg.value, f"{path.name}:{node.lineno}")
            for match in re.finditer(r'(?:errors\[[^\]]+\]|message) = "([^"]+)"', source):
                found.setdefault(match.group(1), path.name)
    return found


def test_every_catalogue_string_is_translated():
    catalog = merged_catalog()
    missing = {msgid: where for msgid, where in catalogue_msgids().items()
               if not (catalog.get(msgid) and catalog.get(msgid).string)}
    assert missing == {}


def test_catalogue_translations_keep_their_placeholders():
    catalog = merged_catalog()
    for msgid in catalogue_msgids():
        message = catalog.get(msgid)
        assert sorted(re.findall(r"%\(\w+\)[sd]", msgid)) == sorted(re.findall(r"%\(\w+\)[sd]", message.string)), msgid
