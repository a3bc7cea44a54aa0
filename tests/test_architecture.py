"""The package's parts keep their import rules, have no import cycles, and stay readable (a docstring at the top of
every module, no module over about 400 lines without a stated reason).

The rules are the ones each part's ``__init__.py`` states; the import graph is read from the source with ``ast``
(imports inside functions count too: a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from massage_course.paths import PROJECT_ROOT

PACKAGE = "massage_course"
# part -> the parts its modules may import (a part may always import itself). None: any part.
MAY_IMPORT: dict[str, set[str] | None] = {
    "paths": set(),
    "topics": set(),
    "lessons": {"topics"},
    "grading": {"topics", "paths"},
    "site": {"topics", "lessons", "paths"},
    "hub": {"grading", "site", "topics", "paths"},
    "cli": None,
    "__main__": {"cli"},
    "__init__": set(),
}
# Libraries a part must never import: topics is the subject without a screen, so no Jupyter, widgets or drawing.
NEVER_LIBRARIES = {
    "topics": {"IPython", "ipywidgets", "jupyterquiz", "matplotlib", "nbformat", "nbgrader", "nbconvert",
               "jupyter_server", "jupyterlab", "jupyterhub", "html"},
    "grading": {"ipywidgets", "jupyterquiz"},
}
MAX_LINES = 400
# Modules allowed past MAX_LINES, each with its reason.
LONG_MODULES: dict[str, str] = {}


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package under ``root``."""
    found = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def is_package(name: str, known: dict[str, Path]) -> bool:
    return known.get(name, Path()).name == "__init__.py"


def imported_modules(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package's own modules that ``name`` imports, relative imports resolved."""
    here = name if is_package(name, known) else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # `from x import y` imports x.y when y is a module, else the module x
            targets = [f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in known else stem for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import massage_course.topics.anatomy.x` -> the module
                target = target.rpartition(".")[0]
            if target.startswith(PACKAGE) and target != name:
                found.add(target)
    return found


def library_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    return found - {PACKAGE}


def part_of(name: str) -> str:
    parts = name.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def import_graph(root: Path) -> dict[str, set[str]]:
    known = modules(root)
    return {name: imported_modules(name, path, known) for name, path in known.items()}


def rule_breaks(root: Path) -> list[str]:
    """Every import one part makes of another that it may not, and every library a part must never use."""
    known = modules(root)
    problems = []
    for name, targets in import_graph(root).items():
        part = part_of(name)
        if part not in MAY_IMPORT:
            problems.append(f"{name} belongs to no part of the package ({', '.join(sorted(MAY_IMPORT))})")
            continue
        allowed = MAY_IMPORT[part]
        for target in sorted(targets):
            other = part_of(target)
            if allowed is not None and other != part and other not in allowed and target != PACKAGE:
                problems.append(f"{name} imports {target}: {part} may import only {sorted(allowed) or 'nothing'}")
        for library in sorted(library_imports(known[name]) & NEVER_LIBRARIES.get(part, set())):
            problems.append(f"{name} imports {library}, which {part} must never use")
    return problems


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of the graph, each once (Tarjan's strongly connected components with more than one module,
    or a module that imports itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
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
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_part_imports_only_the_parts_its_rules_allow():
    assert rule_breaks(PROJECT_ROOT) == []


def test_no_module_of_the_package_is_part_of_an_import_cycle():
    assert cycles(import_graph(PROJECT_ROOT)) == []


def test_the_checks_fail_on_a_forbidden_import_and_on_a_cycle(tmp_path):
    """The two tests above can fail: a topic that draws HTML and imports a lesson, and two modules importing each
    other, are both reported."""
    package = tmp_path / PACKAGE
    for folder in ("topics", "lessons"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text('"""A part."""\n')
    (package / "__init__.py").write_text('"""The package."""\n')
    (package / "topics" / "rules.py").write_text('"""Rules."""\nimport html\n\nfrom ..lessons.view import show\n')
    (package / "lessons" / "view.py").write_text('"""A view."""\nfrom ..topics import rules\n\n\ndef show(): ...\n')
    (package / "stray.py").write_text('"""Belongs nowhere."""\n')
    problems = rule_breaks(tmp_path)
    assert any("topics.rules imports massage_course.lessons.view" in p for p in problems)
    assert any("imports html, which topics must never use" in p for p in problems)
    assert any("stray belongs to no part" in p for p in problems)
    assert cycles(import_graph(tmp_path)) == [["massage_course.lessons.view", "massage_course.topics.rules"]]


@pytest.mark.parametrize("name", sorted(modules(PROJECT_ROOT)))
def test_module_opens_with_a_docstring_and_stays_short(name):
    path = modules(PROJECT_ROOT)[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{path.relative_to(PROJECT_ROOT)} has no opening docstring (what and why)"
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES or name in LONG_MODULES, f"{name}: {lines} lines (over {MAX_LINES}, no stated reason)"


@pytest.mark.parametrize("part", [p for p in MAY_IMPORT if p not in ("paths", "cli", "__main__", "__init__")])
def test_each_part_says_what_it_is_for_what_it_may_import_and_what_it_must_never_do(part):
    docstring = ast.get_docstring(ast.parse((PROJECT_ROOT / PACKAGE / part / "__init__.py").read_text()))
    assert docstring and "May import" in docstring and "Must never" in docstring
