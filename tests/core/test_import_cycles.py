"""No import loops between the domain packages (issue 17 §2).

The graph is drawn at package level: ``voucher/payments/views.py`` importing
``voucher.documents.builders`` is the edge payments → documents.  Nodes are the packages under
``voucher/`` (directories with an ``__init__.py``); the shared modules ``voucher/*.py`` are not
nodes (as in ``test_layers.py``).  Imports are read with ``ast`` and sorted by where they stand:

- **module level** (run when the module is imported): the domains must form no cycle;
- **function level** (inside a function, run when it is called): allowed, but one that closes a
  loop (the imported package reaches back to the importer at module level) is a loop hidden from
  the import system, so each is listed in ``DEFERRED_LOOPS`` with its reason;
- ``if TYPE_CHECKING:`` imports are annotations only and are not counted.

Both allow-lists fail when an entry is no longer needed: delete it then (the integrator of
issue 17 deletes the ones the other branches remove).
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "voucher"

# Issue 17 §2: module-level package loops still in the code.  Each edge listed is taken out of the
# graph before looking for cycles; the test fails when a listed edge no longer exists.
KNOWN_MODULE_LEVEL = {
    # audit/views.py uses auth.policy.roles_required, while auth records its events with
    # audit.services (Actor, record_event): a loop between the packages, not between modules.
    ("audit", "auth"): "audit's pages check the role with auth.policy",
    # A user belongs to an organisation (auth/models.py, queries.py, services.py import
    # enterprises.models), while enterprises lists an organisation's users and uses auth.policy.
    ("auth", "enterprises"): "User.organisation is an enterprises.models.Organisation",
}

# Issue 17 §1–§2: function-level imports that close a loop (the target reaches the importer at module
# level).  Delete an entry when its branch lands: the test fails while a stale entry stays.
DEFERRED_LOOPS = {
    # The start-page cards share figures through dashboard.queries.shared; the dashboard's
    # figures read the applications.  (The cards are registered by voucher.registries.)
    ("applications", "dashboard"): "applications/views.py start-page cards use dashboard.queries.shared",
    # The application's page links to its trial (a read of trials.queries); opening and cancelling
    # the trial is a transition listener now (voucher.registries), not an import.
    ("applications", "trials"): "applications/views.py links the application's page to its trial",
    # The recommendation candidates are read with the trials' scores (catalogue/queries.py).
    ("catalogue", "trials"): "catalogue/queries.py reads the trials' scores for the recommendations",
}


def packages() -> set[str]:
    return {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}


def _module_name(path: Path, root: Path) -> tuple[str, ...]:
    parts = ("voucher",) + path.relative_to(root).with_suffix("").parts
    return parts[:-1] if parts[-1] == "__init__" else parts


def imports_of(path: Path, root: Path = PACKAGE) -> list[tuple[str, str, int]]:
    """(imported module, "module" | "function" | "type", line) for every import in ``path``
    (a file under ``root``, the ``voucher`` package's directory)."""
    here = _module_name(path, root)
    is_package = path.name == "__init__.py"
    found: list[tuple[str, str, int]] = []

    def visit(node: ast.AST, in_function: bool, type_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            function = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            typing = type_only or (isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test))
            names: list[str] = []
            if isinstance(child, ast.ImportFrom):
                if child.level:
                    base = list(here if is_package else here[:-1])
                    base = base[:len(base) - (child.level - 1)]
                    module = ".".join(base + ([child.module] if child.module else []))
                else:
                    module = child.module or ""
                names = [module] + [f"{module}.{alias.name}" for alias in child.names]
            elif isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            where = "function" if function else ("type" if typing else "module")
            found.extend((name, where, child.lineno) for name in names)
            visit(child, function, typing)

    visit(ast.parse(path.read_text(encoding="utf-8")), False, False)
    return found


def package_graph() -> dict[str, dict[tuple[str, str], list[str]]]:
    """where ("module" / "function" / "type") -> (package, imported package) -> ["file:line", ...]."""
    known = packages()
    graph: dict[str, dict[tuple[str, str], list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if len(parts) < 2 or parts[0] not in known:
            continue
        source = parts[0]
        for name, where, line in imports_of(path):
            bits = name.split(".")
            if len(bits) < 2 or bits[0] != "voucher" or bits[1] not in known or bits[1] == source:
                continue
            location = f"{path.relative_to(ROOT)}:{line}"
            if location not in graph[where][(source, bits[1])]:
                graph[where][(source, bits[1])].append(location)
    return graph


def _adjacency(edges) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for source, target in edges:
        out[source].add(target)
    return out


def _reachable(adjacency: dict[str, set[str]], start: str) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        for nxt in adjacency.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def cycles(edges) -> list[list[str]]:
    """The strongly connected groups of more than one package (each holds at least one cycle)."""
    adjacency = _adjacency(edges)
    nodes = sorted({n for edge in edges for n in edge})
    reach = {n: _reachable(adjacency, n) for n in nodes}
    groups, placed = [], set()
    for node in nodes:
        if node in placed:
            continue
        group = sorted(m for m in reach[node] if node in reach[m])
        placed.update(group)
        if len(group) > 1:
            groups.append(group)
    return groups


def _describe(group: list[str], edges: dict[tuple[str, str], list[str]]) -> str:
    inner = [f"  {a} -> {b}: {', '.join(edges[(a, b)][:3])}" for (a, b) in sorted(edges)
             if a in group and b in group]
    return " <-> ".join(group) + "\n" + "\n".join(inner)


def test_imports_are_sorted_by_where_they_stand(tmp_path):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    module = tmp_path / "shop" / "views.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "from voucher.documents.builders import register_builder\n"
        "from . import queries\n"
        "if TYPE_CHECKING:\n"
        "    from voucher.payments.models import Disbursement\n"
        "def panel():\n"
        "    import voucher.trials.queries\n"
        "    return lambda: __import__('x')\n")
    found = {(name, where) for name, where, _line in imports_of(module, tmp_path)}
    assert ("voucher.documents.builders", "module") in found
    assert ("voucher.shop.queries", "module") in found           # a relative import, resolved
    assert ("voucher.payments.models", "type") in found
    assert ("voucher.trials.queries", "function") in found
    assert cycles({("a", "b"): [], ("b", "c"): [], ("c", "a"): [], ("c", "d"): []}) == [["a", "b", "c"]]
    assert cycles({("a", "b"): [], ("b", "c"): []}) == []


def test_no_import_cycle_between_domain_packages_at_module_level():
    module_edges = package_graph()["module"]
    remaining = {edge: where for edge, where in module_edges.items() if edge not in KNOWN_MODULE_LEVEL}
    found = cycles(remaining)
    assert not found, ("import cycles between domain packages (module level):\n"
                       + "\n".join(_describe(group, remaining) for group in found))
    stale = sorted(edge for edge in KNOWN_MODULE_LEVEL if edge not in module_edges)
    assert not stale, f"no longer imported at module level, delete from KNOWN_MODULE_LEVEL: {stale}"


def test_function_level_imports_that_close_a_loop_are_listed():
    graph = package_graph()
    module_edges = graph["module"]
    adjacency = _adjacency(module_edges)
    closing = {edge: where for edge, where in graph["function"].items()
               if edge not in module_edges and edge[0] in _reachable(adjacency, edge[1])}
    new = {edge: where for edge, where in closing.items() if edge not in DEFERRED_LOOPS}
    assert not new, ("a function-level import closes a loop between domains (the imported package reaches "
                     "the importer at module level); remove it, or list it in DEFERRED_LOOPS with why:\n"
                     + "\n".join(f"  {a} -> {b}: {', '.join(where)}" for (a, b), where in sorted(new.items())))
    stale = sorted(edge for edge in DEFERRED_LOOPS if edge not in closing)
    assert not stale, f"no longer a deferred loop, delete from DEFERRED_LOOPS: {stale}"
