"""Layers point one way: errors <- {schema, core, rules} <- {validate, io, render} <- app <- {cli, macros, udfs}.

Walks every module's imports with ``ast`` and fails on an upward import, and keeps the
core free of openpyxl, xlwings, click and jinja2.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "jifen_xl"

LEVEL = {
    "errors": 0, "schema": 1, "core": 1, "rules": 1,
    "validate": 2, "ooxml": 2, "safefile": 2, "io": 2, "render": 2,
    "app": 3, "township": 3, "district": 3, "demo": 4,
    "cli": 5, "macros": 5, "udfs": 5, "__main__": 6, "__init__": 6,
    "cli_zh": 5,  # click in Chinese, used by cli
}
FORBIDDEN_IN_CORE = {"openpyxl", "xlwings", "click", "jinja2", "python_calamine"}


def layer_of(module: str) -> str:
    return module.split(".")[0]


def imports(path: Path) -> list[tuple[str, str]]:
    """(package-relative module, absolute top-level third-party) imports of one file."""
    rel = path.relative_to(PKG).with_suffix("")
    parts = list(rel.parts)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - node.level]
                target = ".".join(base + ([node.module] if node.module else []))
                names = [target] if node.module else [".".join(base + [a.name]) for a in node.names]
                out += [("pkg", n) for n in names]
            elif node.module and node.module.startswith("jifen_xl"):
                out.append(("pkg", node.module.removeprefix("jifen_xl.")))
            elif node.module:
                out.append(("ext", node.module.split(".")[0]))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("jifen_xl."):
                    out.append(("pkg", a.name.removeprefix("jifen_xl.")))
                else:
                    out.append(("ext", a.name.split(".")[0]))
    return out


def test_no_upward_imports():
    bad = []
    for path in PKG.rglob("*.py"):
        me = layer_of(".".join(path.relative_to(PKG).with_suffix("").parts))
        for kind, target in imports(path):
            if kind != "pkg" or not target:
                continue
            them = layer_of(target)
            if them in LEVEL and LEVEL[them] > LEVEL[me]:
                bad.append(f"{path.relative_to(PKG)} imports {target}")
    assert bad == []


def test_core_is_pure():
    bad = [f"{p.relative_to(PKG)} imports {t}" for p in (PKG / "core").rglob("*.py")
           for kind, t in imports(p) if kind == "ext" and t in FORBIDDEN_IN_CORE]
    assert bad == []


def test_every_module_has_a_known_layer():
    unknown = {layer_of(".".join(p.relative_to(PKG).with_suffix("").parts)) for p in PKG.rglob("*.py")} - set(LEVEL)
    assert unknown == set()


def _module_graph() -> dict[str, set[str]]:
    """Module -> the jifen_xl modules it imports (at any depth of the file, lazy imports included)."""
    modules = {".".join(p.relative_to(PKG).with_suffix("").parts).removesuffix(".__init__"): p
               for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        graph[name] = set()
        for kind, target in imports(path):
            if kind != "pkg" or not target:
                continue
            target = target.removesuffix(".__init__")
            while target and target not in modules:  # "from .io import package" names io.package
                target = target.rpartition(".")[0]
            if target and target != name:
                graph[name].add(target)
    return graph


def test_no_import_cycle():
    """No module imports itself through others (the reader once imported the writer and back)."""
    graph = _module_graph()
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    # a package's __init__ importing its own submodules is not a cycle of concern
    cycles = [c for c in cycles if not all(m == c[0] or m.startswith(c[0] + ".") for m in c)]
    assert cycles == []


def test_ooxml_knows_nothing_of_the_backend():
    """The package layer serves the reader, the writer and the archive opener: it never imports them."""
    bad = [f"{p.relative_to(PKG)} imports {t}" for p in (PKG / "ooxml").rglob("*.py")
           for kind, t in imports(p) if kind == "pkg" and layer_of(t) in ("io", "app", "cli", "demo", "macros")]
    assert bad == []


def test_only_the_excel_edge_imports_xlwings():
    """xlwings is imported by the buttons and the UDFs only (issue 12): the live backend
    (``io/live.py``) talks to the Book it is handed, so the rest of the package never needs it."""
    users = {".".join(p.relative_to(PKG).with_suffix("").parts) for p in PKG.rglob("*.py")
             for kind, t in imports(p) if kind == "ext" and t == "xlwings"}
    assert users <= {"macros", "udfs"}
    assert "udfs" in users  # @xw.func needs it at import
