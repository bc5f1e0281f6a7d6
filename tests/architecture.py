"""The house rules that code can check: imports between layers and the size of modules.

Used by tests/test_architecture.py (on the real tree, and on purpose-made violations in a
temporary folder). The rules and their reasons are written in server/README.md,
server/services/README.md and pwa/js/README.md.

Imports are read from the source (``ast``), every ``import`` and ``from ... import``
statement wherever it stands: at the top, inside a function (a "lazy" import hides a
circle but does not remove it) or under ``if TYPE_CHECKING`` (left out: never run).
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

Edge = tuple[str, str]  # (importer, imported), dotted module names


@dataclass(frozen=True)
class Module:
    name: str  # dotted, e.g. "server.services.stats.rollup"
    path: Path
    is_package: bool  # an __init__.py


def find_modules(root: Path, packages: Iterable[str]) -> dict[str, Module]:
    """Every module of ``packages`` (top-level folders or single files under ``root``)."""
    out: dict[str, Module] = {}
    for top in packages:
        single = root / f"{top}.py"
        if single.is_file():
            out[top] = Module(top, single, False)
            continue
        for path in sorted((root / top).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            out[".".join(parts)] = Module(".".join(parts), path, is_package)
    return out


def _type_checking_lines(tree: ast.AST) -> set[int]:
    """Line numbers of the statements under ``if TYPE_CHECKING:`` (never run)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                for sub in ast.walk(child):
                    if hasattr(sub, "lineno"):
                        lines.add(sub.lineno)
    return lines


def _resolve(candidates: list[str], known: dict[str, Module]) -> str | None:
    """The first candidate that is one of our modules, else the longest known prefix."""
    for name in candidates:
        if name in known:
            return name
    for name in candidates:
        parts = name.split(".")
        while parts:
            if ".".join(parts) in known:
                return ".".join(parts)
            parts.pop()
    return None


def imports_of(module: Module, known: dict[str, Module]) -> set[str]:
    """The modules of ``known`` that ``module`` imports (itself and unknown ones left out)."""
    tree = ast.parse(module.path.read_text(encoding="utf-8"), str(module.path))
    skip = _type_checking_lines(tree)
    package = module.name if module.is_package else module.name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve([alias.name], known)
                if target:
                    found.add(target)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                target = _resolve([f"{base}.{alias.name}", base], known)
                if target:
                    found.add(target)
    found.discard(module.name)
    return found


def import_graph(root: Path, packages: Iterable[str]) -> dict[str, set[str]]:
    known = find_modules(root, packages)
    return {name: imports_of(module, known) for name, module in known.items()}


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module (recursive: a
    package's import chains are a few dozen deep at most)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for child in sorted(graph.get(node, ())):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            component = stack[stack.index(node) :]
            del stack[stack.index(node) :]
            if len(component) > 1:
                out.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return out


def _shortest_cycle(graph: dict[str, set[str]], members: list[str]) -> list[str]:
    """A shortest circle through the first member of a strongly connected component."""
    inside = set(members)
    start = members[0]
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for child in sorted(graph.get(node, set()) & inside):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if child not in came_from:
                    came_from[child] = node
                    nxt.append(child)
        frontier = nxt
    return members


def cycles(graph: dict[str, set[str]], allowed: Iterable[Edge] = ()) -> list[list[str]]:
    """Import circles left once the ``allowed`` edges are taken out, each as
    ``[a, b, ..., a]``."""
    cut = set(allowed)
    pruned = {a: {b for b in bs if (a, b) not in cut} for a, bs in graph.items()}
    return [_shortest_cycle(pruned, c) for c in _strongly_connected(pruned)]


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def forbidden(
    graph: dict[str, set[str]], source: str, target: str, allowed: Iterable[Edge] = ()
) -> list[Edge]:
    """The imports from modules within ``source`` of modules within ``target``."""
    ok = set(allowed)
    return sorted(
        (a, b)
        for a, bs in graph.items()
        if _within(a, source)
        for b in bs
        if _within(b, target) and (a, b) not in ok
    )


def long_modules(root: Path, folders: Iterable[str], limit: int) -> dict[str, int]:
    """``path -> lines`` of the Python and JavaScript files longer than ``limit`` lines."""
    out: dict[str, int] = {}
    for folder in folders:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix not in (".py", ".js") or "vendor" in path.parts:
                continue
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > limit:
                out[path.relative_to(root).as_posix()] = lines
    return out


def long_functions(root: Path, folders: Iterable[str], limit: int) -> dict[str, int]:
    """``path:function -> lines`` of the Python functions longer than ``limit`` lines
    (from ``def`` to the last line of the body, decorators left out)."""
    out: dict[str, int] = {}
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = (node.end_lineno or node.lineno) - node.lineno + 1
                    if lines > limit:
                        out[f"{path.relative_to(root).as_posix()}:{node.name}"] = lines
    return out


JS_IMPORT = re.compile(r"""(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}/[^'"]+)['"]""")


def js_import_graph(root: Path) -> dict[str, set[str]]:
    """``module -> modules it imports`` of the ES modules under ``root`` (static and
    dynamic ``import()``), as paths relative to ``root``; vendored code left out."""
    out: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.js")):
        rel = path.relative_to(root).as_posix()
        if "vendor" in path.parts:
            continue
        here = posixpath.dirname(rel)
        text = path.read_text(encoding="utf-8")
        out[rel] = {
            posixpath.normpath(posixpath.join(here, spec)) for spec in JS_IMPORT.findall(text)
        }
    return out


def js_forbidden(
    graph: dict[str, set[str]], source: str, targets: Iterable[str]
) -> list[Edge]:
    """Imports by modules under ``source`` (a folder, or a file) of ``targets`` (folders
    ending in ``/`` or files)."""
    ends = tuple(targets)
    return sorted(
        (a, b)
        for a, bs in graph.items()
        if a == source or a.startswith(source)
        for b in bs
        if b in ends or b.startswith(tuple(t for t in ends if t.endswith("/")))
    )


def edges_of(graph: dict[str, set[str]]) -> set[Edge]:
    return {(a, b) for a, bs in graph.items() for b in bs}


def by_source(edges: Iterable[Edge]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        out[a].append(b)
    return dict(out)
