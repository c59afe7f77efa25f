"""The layers of ``src/helpers`` as docs/ARCHITECTURE.md draws them: imports run one way, no
circles, short functions, modules of one job.

Read from the sources (every import, also one inside a function), so the picture cannot drift
from the code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import helpers

PACKAGE = Path(helpers.__file__).parent
LAYERS = (
    ("foundation", ("helpers", "helpers.paths", "helpers.files", "helpers.formatting",
                    "helpers.domain")),
    ("sources", ("helpers.sources",)),
    ("params", ("helpers.params",)),
    ("datasets", ("helpers.datasets",)),
    ("rendering", ("helpers.rendering",)),
    ("reports", ("helpers.reports",)),
    ("build", ("helpers.build",)),
    ("cli", ("helpers.cli",)),
)
"""Bottom to top: a module imports only from its own layer and the layers below it."""
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 500
LAZY_IMPORTS_ALLOWED = {"helpers.cli"}
"""Where imports inside functions are allowed: the command line keeps ``--help`` fast."""


def module_name(path: Path) -> str:
    parts = ["helpers", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path) -> list[tuple[str, int, bool]]:
    """``(module imported, line, inside a function)`` for every import of helpers modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inside.update(id(sub) for sub in ast.walk(node) if sub is not node)
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from helpers.x import y` may import the module helpers.x.y
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES
                     else node.module for a in node.names]
        for name in names:
            if name == "helpers" or name.startswith("helpers."):
                found.append((_known(name), node.lineno, id(node) in inside))
    return found


def _known(name: str) -> str:
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def layer_of(module: str) -> int:
    for rank, (_layer, prefixes) in enumerate(LAYERS):
        if any(module == p or (p != "helpers" and module.startswith(p + ".")) for p in prefixes):
            return rank
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS and ARCHITECTURE.md")


GRAPH = {module: {name for name, _line, _lazy in imports_of(path) if name != module}
         for module, path in MODULES.items()}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_down_the_layers(module):
    upward = [f"{name} ({LAYERS[layer_of(name)][0]})" for name in sorted(GRAPH[module])
              if layer_of(name) > layer_of(module)]
    assert not upward, (f"{module} ({LAYERS[layer_of(module)][0]}) imports from a higher layer: "
                        f"{', '.join(upward)}")


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph``, or None (depth-first search, colours)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_circle():
    # a package's __init__ re-exporting its modules is not a circle of concerns
    graph = {m: {n for n in deps if not m.startswith(n + ".")} for m, deps in GRAPH.items()}
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + " → ".join(cycle or [])


def test_the_circle_finder_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_inside_functions_only_where_start_up_needs_it(module):
    lazy = [line for _name, line, inside in imports_of(MODULES[module]) if inside]
    if module not in LAZY_IMPORTS_ALLOWED:
        assert not lazy, f"{module}: imports inside functions at lines {lazy}; import at the top"


def test_functions_are_short():
    long = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{module}.{node.name} ({length} lines)")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {', '.join(long)}"


def test_modules_hold_one_job():
    big = [f"{module} ({n} lines)" for module, path in MODULES.items()
           if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES]
    assert not big, f"modules over {MAX_MODULE_LINES} lines: {', '.join(big)}; split by concern"


def test_the_layers_cover_every_module_and_the_document_names_them():
    for module in MODULES:
        layer_of(module)
    text = (PACKAGE.parents[1] / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for _layer, prefixes in LAYERS:
        for prefix in prefixes:
            name = prefix.removeprefix("helpers.").replace(".", "/")
            assert name == "helpers" or name in text, f"ARCHITECTURE.md does not name {name}"
