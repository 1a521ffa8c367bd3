"""The package's imports point one way: down the layers of ``docs/architecture.md``.

Read with ``ast`` (imports inside functions and under ``TYPE_CHECKING`` included), so a
lazy import cannot hide a cycle. The layer order is written once, here, and the
architecture page lists the same modules: a new module must be placed in both.

Layer 0 also holds ``config_table``, ``converters`` and ``integers`` (the settings table and
its converters, whole-number parsing): leaves that ``config`` and the web layer share. The
page's module names may contain digits (``i18n.py``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "flask_twitsocket"
ARCHITECTURE = ROOT / "docs" / "architecture.md"

#: Bottom to top. A module may import from its own layer or any layer below, never above.
#: Names are top-level modules or packages of ``flask_twitsocket``.
LAYERS: list[tuple[str, ...]] = [
    ("config", "config_table", "converters", "integers", "shapes", "backoff", "serialise",
     "i18n", "models", "render", "walls"),
    ("sanitise", "messages", "migrations"),
    ("normalise", "x_client", "bus"),
    ("sources", "x_lister"),
    ("store",),
    ("moderation",),
    ("pipeline",),
    ("stream",),
    ("hub",),
    ("state",),
    ("web", "cli"),
    ("extension",),
    ("__init__",),
]
LAYER_OF = {name: depth for depth, names in enumerate(LAYERS) for name in names}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["flask_twitsocket", *parts])


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def imports_of(path: Path) -> set[str]:
    """Every ``flask_twitsocket`` module ``path`` imports, at any depth of its code."""
    own = module_name(path).split(".")
    package = own if is_package(path) else own[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def import_graph() -> dict[str, set[str]]:
    files = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: {target for target in imports_of(path) if target in files and target != name}
            for name, path in files.items()}


def layer(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    assert top in LAYER_OF, f"{module} is in no layer: add it to LAYERS and the architecture page"
    return LAYER_OF[top]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_imports_point_down_the_layers():
    upward = [f"{source} → {target}" for source, targets in sorted(import_graph().items())
              for target in sorted(targets) if layer(target) > layer(source)]
    assert upward == []


def test_the_architecture_page_names_every_module():
    text = ARCHITECTURE.read_text(encoding="utf-8")
    named = set(re.findall(r"`([a-z0-9_/]+\.py)`", text))
    missing = sorted(
        str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
        if "migrations/versions" not in path.as_posix()
        and str(path.relative_to(PACKAGE)) not in named
    )
    assert missing == [], f"add these to docs/architecture.md: {missing}"


def test_the_graph_reader_sees_lazy_imports():
    """The checks above would pass vacuously if the reader missed imports in functions
    or the cycle finder missed a circle."""
    stream = PACKAGE / "stream.py"
    assert "flask_twitsocket.pipeline" in imports_of(stream)
    assert cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
