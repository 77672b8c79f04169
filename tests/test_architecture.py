"""ganaudio's import graph: no cycles between modules, and no import against the layer order in docs/ARCHITECTURE.md.

Every ``import`` and ``from ... import`` counts, at module level and inside
functions alike. An edge goes to the module whose namespace the statement
reads: ``import a.b`` reads ``a.b``; ``from a.b import c`` reads ``a.b``
(and ``a.b.c`` too when that is a module). A package's ``__init__`` is thus a
module of its own, and a module that takes a name from its package's
``__init__`` depends on everything that ``__init__`` imports.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ganaudio"

def read_layers(doc: Path = ROOT / "docs" / "ARCHITECTURE.md") -> dict[str, int]:
    """``{module prefix: layer number}`` from the fenced block marked ``layers`` in ARCHITECTURE.md."""
    block = re.search(r"```layers\n(.*?)```", doc.read_text(), re.S)
    assert block, f"{doc} has no ```layers block"
    layers = {}
    for line in block.group(1).splitlines():
        number, *prefixes = line.split()
        for prefix in prefixes:
            assert prefix not in layers, f"{prefix} is listed twice in the layer table"
            layers[prefix] = int(number)
    return layers


def module_files(package: Path = PACKAGE) -> dict[str, tuple[Path, bool]]:
    """``{dotted module name: (file, is_package)}`` for every .py file under ``package``."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


def _owner(name: str, modules) -> str | None:
    """The longest prefix of the dotted ``name`` that is a module (``a.b.func`` -> ``a.b``)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(modules=None) -> dict[str, set[str]]:
    """``{module: modules it imports}`` within ganaudio, every import statement of every scope included."""
    modules = modules or module_files()
    graph = {}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets |= {_owner(alias.name, modules) for alias in node.names if alias.name.startswith("ganaudio")}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                if source.split(".")[0] != "ganaudio":
                    continue
                targets.add(_owner(source, modules))
                targets |= {f"{source}.{alias.name}" for alias in node.names if f"{source}.{alias.name}" in modules}
        graph[name] = targets - {None, name}
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layer_of(module: str, layers: dict[str, int]) -> int:
    prefix = _owner(module, layers)
    assert prefix is not None, f"{module} is in no layer of docs/ARCHITECTURE.md's table"
    return layers[prefix]


def violations(graph, layers) -> set[tuple[str, str]]:
    return {(a, b) for a, targets in graph.items() for b in targets if layer_of(b, layers) > layer_of(a, layers)}


def test_the_graph_sees_function_level_and_relative_imports(tmp_path):
    pkg = tmp_path / "ganaudio"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "low.py").write_text("def f():\n    from ganaudio.sub import high\n")
    (pkg / "sub" / "__init__.py").write_text("from . import high\n")
    (pkg / "sub" / "high.py").write_text("from ..low import f\nimport ganaudio.low\n")
    graph = import_graph(module_files(pkg))
    assert graph["ganaudio.low"] == {"ganaudio.sub", "ganaudio.sub.high"}
    assert graph["ganaudio.sub"] == {"ganaudio.sub.high"}
    assert graph["ganaudio.sub.high"] == {"ganaudio.low"}
    assert find_cycles(graph) == [["ganaudio.low", "ganaudio.sub", "ganaudio.sub.high"]]
    layers = {"ganaudio.low": 0, "ganaudio.sub": 1, "ganaudio": 2}
    assert violations(graph, layers) == {("ganaudio.low", "ganaudio.sub"), ("ganaudio.low", "ganaudio.sub.high")}


def test_every_module_has_a_layer():
    layers = read_layers()
    for module in module_files():
        layer_of(module, layers)


def test_no_import_cycles():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles between modules:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_imports_follow_the_layer_order():
    found = sorted(violations(import_graph(), read_layers()))
    assert not found, "imports against the layer order in docs/ARCHITECTURE.md:\n" + "\n".join(
        f"{a} -> {b}" for a, b in found)


def test_only_training_and_the_command_line_import_train():
    outside = sorted((a, b) for a, targets in import_graph().items() for b in targets
                     if b.startswith("ganaudio.train") and not a.startswith(("ganaudio.train", "ganaudio.cli")))
    assert not outside, f"inference code reaches into training: {outside}"


@pytest.mark.parametrize("module", ["ganaudio.models", "ganaudio.functional", "ganaudio.representations"])
def test_low_layers_import_no_training_or_inference(module):
    graph = import_graph()
    for name, targets in graph.items():
        if name == module or name.startswith(module + "."):
            assert not {t for t in targets if t.startswith(("ganaudio.train", "ganaudio.api", "ganaudio.cli"))}, name


def test_no_two_public_functions_share_a_name():
    """A function name in any module's ``__all__`` means one function everywhere (re-exports are the same object)."""
    owners: dict[str, dict[int, str]] = {}
    for name in module_files():
        if name.endswith("__main__"):
            continue
        module = importlib.import_module(name)
        for public in getattr(module, "__all__", []):
            obj = getattr(module, public, None)
            if inspect.isfunction(obj):
                owners.setdefault(public, {})[id(obj)] = f"{obj.__module__}.{obj.__qualname__}"
    shared = {name: sorted(found.values()) for name, found in owners.items() if len(found) > 1}
    assert not shared, f"different functions under one public name: {shared}"
