"""Which domain may call which domain's services: the table in docs/DEVELOPING.md ("Layers") is the
rule, read from the file itself, so the document and the check cannot drift apart."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "voucher"


def layer_table() -> dict[str, tuple[set[str] | None, set[str]]]:
    """domain -> (allowed services or None for any, imports still to remove), from DEVELOPING.md."""
    text = (ROOT / "docs" / "DEVELOPING.md").read_text(encoding="utf-8")
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    table = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("domain", "") or set(cells[0]) <= {"-"}:
            continue
        words = [{w.strip() for w in c.split(",") if w.strip()} for c in cells[1:]]
        table[cells[0]] = (None if words[0] == {"*"} else words[0], words[1])
    return table


def domains() -> set[str]:
    return {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}


# A domain's own modules that services.py imports but that are no services (what pages read, the
# tables, who may do what, the forms).
NOT_SERVICES = {"models", "queries", "access", "schemas", "forms", "views", "panels", "labels"}


def service_modules(domain: str) -> set[str]:
    """``services`` and the modules its services are split into: those of the same package that
    ``services.py`` imports (e.g. trials/milestones.py, re-exported by trials/services.py), so importing
    a split-off module directly is the same call as importing ``services``."""
    path = PACKAGE / domain / "services.py"
    out = {"services"}
    if not path.exists():
        return out
    prefix = f"voucher.{domain}."
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(prefix):
            name = node.module[len(prefix):].split(".")[0]
            if name not in NOT_SERVICES:
                out.add(name)
    return out


def service_imports() -> dict[str, dict[str, list[str]]]:
    """domain -> other domain whose services it imports -> the importing modules."""
    known = domains()
    services_of = {d: service_modules(d) for d in known}
    found: dict[str, dict[str, list[str]]] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).parts
        if len(parts) < 2:
            continue  # voucher/*.py: shared pieces, not a domain
        source = parts[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            targets = {bits[1] for bits in (name.split(".") for name in names)
                       if len(bits) >= 3 and bits[0] == "voucher" and bits[1] in known and bits[1] != source
                       and bits[2] in services_of[bits[1]]}
            for target in targets:
                found.setdefault(source, {}).setdefault(target, []).append(str(path.relative_to(ROOT)))
    return found


def test_every_domain_calls_only_the_services_its_row_allows():
    table = layer_table()
    problems = []
    for source, targets in sorted(service_imports().items()):
        if source not in table:
            problems.append(f"{source}: not in the Layers table of docs/DEVELOPING.md")
            continue
        allowed, to_remove = table[source]
        for target, modules in sorted(targets.items()):
            if allowed is not None and target not in allowed and target not in to_remove:
                problems.append(f"{source} -> {target}.services ({', '.join(sorted(set(modules)))})")
    assert problems == [], "\n".join(problems)


def test_an_import_listed_to_remove_is_still_there_until_its_entry_is_deleted():
    imports = service_imports()
    gone = [f"{source} -> {target}" for source, (_allowed, to_remove) in layer_table().items()
            for target in to_remove if target not in imports.get(source, {})]
    assert gone == [], f"removed from the code: delete these from the table's 'to remove' column: {gone}"


def test_the_table_names_every_domain_and_reads_as_a_table():
    table = layer_table()
    with_services = {d for d in domains() if (PACKAGE / d / "services.py").exists()}
    assert with_services - set(table) == set(), "domains with services missing from the Layers table"
    assert set(table) <= domains()
    assert table["audit"] == (set(), set()) and table["api"][0] is None
    # The loop issue 17 §2 broke: applications publishes its approval, the trials follow it.
    assert "trials" not in table["applications"][0] | table["applications"][1]


def test_a_module_split_off_services_counts_as_services():
    assert {"services", "common", "milestones", "evaluations"} <= service_modules("trials")
    assert "queries" not in service_modules("trials") and "models" not in service_modules("trials")


def test_the_check_finds_an_import_against_the_direction(tmp_path, monkeypatch):
    fake = tmp_path / "voucher"
    for d in ("audit", "programmes"):
        (fake / d).mkdir(parents=True)
        (fake / d / "__init__.py").write_text("")
    (fake / "audit" / "models.py").write_text("def f():\n    from voucher.programmes.services import pay\n")
    import sys

    module = sys.modules[__name__]
    monkeypatch.setattr(module, "PACKAGE", fake)
    monkeypatch.setattr(module, "ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "DEVELOPING.md").write_text(
        "## Layers\n| domain | may call the services of | to remove |\n|---|---|---|\n| audit | | |\n"
        "| programmes | audit | |\n")
    assert service_imports() == {"audit": {"programmes": ["voucher/audit/models.py"]}}
    try:
        test_every_domain_calls_only_the_services_its_row_allows()
    except AssertionError as err:
        assert "audit -> programmes.services" in str(err)
    else:
        raise AssertionError("the check let an upward import through")
    assert re.search(r"programmes", str(layer_table()))
