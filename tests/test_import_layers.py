"""Imports run one way: no project module imports (directly or through others) a module that imports it back, and
every import runs down the layers (``LAYERS``): the support code at the bottom, the models on it, inference and the
CLI on top.

Read from the source (AST), so imports under ``if TYPE_CHECKING`` and inside functions count too: a cycle hidden
there is still two modules that each need the other. Importing a submodule does not count as importing its
package's ``__init__`` (Python runs it, but that is the package's layout, not a dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["lightning_modules", "datamodules", "rl", "lightning_classics"]
# Bottom first: a module may import its own layer and the ones below it, never one above. Each entry is a module or
# a package (all of its modules); every project module belongs to exactly one.
LAYERS = [
    [
        "lightning_classics",
        "lightning_classics.runs",
        "lightning_classics.callbacks",
        "lightning_classics.plots",
        "lightning_classics.images",
    ],
    ["lightning_modules", "datamodules"],
    ["rl"],
    ["lightning_classics.inference", "cli"],
]


def project_modules() -> dict[str, Path]:
    files = [ROOT / "cli.py"] + [path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]
    modules = {}
    for path in files:
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports: ``import a.b``, ``from a import b`` (b a module or a name in a)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, one level up per extra dot
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {module for module in found if module in modules and module != name}


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def layer_of(module: str) -> int:
    """The index in ``LAYERS`` of the most specific entry that is ``module`` or a package holding it."""
    owners = [
        (len(entry), level)
        for level, entries in enumerate(LAYERS)
        for entry in entries
        if module == entry or module.startswith(entry + ".")
    ]
    if not owners:
        raise LookupError(f"{module} is in no layer of tests/test_import_layers.py: add it to LAYERS")
    return max(owners)[1]


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Each import of a module from a higher layer, as ``importer (layer) -> imported (layer)``."""
    return [
        f"{name} ({layer_of(name) + 1}) -> {target} ({layer_of(target) + 1})"
        for name in sorted(graph)
        for target in sorted(graph[name])
        if layer_of(target) > layer_of(name)
    ]


def test_the_graph_sees_the_imports_it_should(tmp_path):
    graph = import_graph()
    assert "rl.dqn.agent" in graph["rl.dqn"]  # from rl.dqn.agent import DQN, in a package's __init__
    assert {"rl.dqn.curves", "rl.dqn.stream", "lightning_classics.runs.fused_optimizers"} <= graph["rl.dqn.agent"]
    assert "lightning_classics.runs.resume" in graph["cli"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]
    hidden = tmp_path / "hidden.py"  # no project module imports inside a function today; one would still count
    hidden.write_text("def f():\n    from rl.wrappers import build_env\n")
    assert imports_of("rl.hidden", hidden, project_modules()) == {"rl.wrappers"}
    assert "lightning_classics.images" in graph["datamodules.mnist"]


def test_every_module_has_a_layer_and_the_layers_are_the_ones_decided():
    assert [layer_of(name) for name in ("lightning_classics.runs.resume", "lightning_classics.images")] == [0, 0]
    assert [layer_of(name) for name in ("lightning_classics.callbacks", "lightning_classics.plots.curves")] == [0, 0]
    assert [layer_of(name) for name in ("datamodules.mnist", "rl.dqn.agent", "cli")] == [1, 2, 3]
    assert layer_of("lightning_classics.inference.serve") == 3  # the most specific entry wins over lightning_classics
    for name in import_graph():
        layer_of(name)  # raises for a module no layer names


def test_an_import_from_a_higher_layer_is_caught():
    graph = import_graph()
    graph["lightning_classics.runs.resume"] = graph["lightning_classics.runs.resume"] | {"rl.evaluation"}
    graph["datamodules.mnist"] = graph["datamodules.mnist"] | {"lightning_classics.inference.serve"}
    assert upward_imports(graph) == [
        "datamodules.mnist (2) -> lightning_classics.inference.serve (4)",
        "lightning_classics.runs.resume (1) -> rl.evaluation (3)",
    ]


def test_imports_only_run_down_the_layers():
    found = upward_imports(import_graph())
    assert not found, "imports from a higher layer (see LAYERS): " + "; ".join(found)


def test_no_module_imports_one_that_imports_it_back():
    found = cycles(import_graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(sorted(cycle)) for cycle in found)
