"""Import cycles between the parts of a package (its subpackages and top-level modules).

    python -m devtools.import_cycles [PACKAGE]     # default: bot; exits 1 when there is a cycle

Every import counts, wherever it is written (inside a function, under TYPE_CHECKING):
a cycle is a design problem even when Python happens to load it. Each cycle is printed
with the files whose imports make it, so the way out is plain.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_names(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    """Every module name an import in the file may refer to (`from a import b` may import a.b)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def part_of(module: str, package: str) -> str | None:
    """The package's direct child holding this module (bot.handoff.views -> bot.handoff), if any."""
    parts = module.split(".")
    if parts[0] != package or len(parts) < 2:
        return None
    return f"{package}.{parts[1]}"


def dependencies(package: str, root: Path = PROJECT_ROOT) -> dict[tuple[str, str], set[str]]:
    """(part, part it imports) -> the files whose imports make that dependency."""
    edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    children = {path.stem if path.suffix else path.name for path in (root / package).iterdir()}
    for path in sorted((root / package).rglob("*.py")):
        module = _module_name(path, root)
        importer = part_of(module, package)
        if importer is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name in _imported_names(tree, module, path.name == "__init__.py"):
            imported = part_of(name, package)
            if imported and imported != importer and imported.split(".")[1] in children:
                edges[(importer, imported)].add(str(path.relative_to(root)))
    return edges


def cycles(package: str, root: Path = PROJECT_ROOT) -> list[list[str]]:
    """The groups of parts that import each other, directly or not (strongly connected components)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for importer, imported in dependencies(package, root):
        graph[importer].add(imported)
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = lowest[node] = len(index)
        stack.append(node)
        for neighbour in sorted(graph[node]):
            if neighbour not in index:
                visit(neighbour)
                lowest[node] = min(lowest[node], lowest[neighbour])
            elif neighbour in stack:
                lowest[node] = min(lowest[node], index[neighbour])
        if lowest[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def report(package: str, root: Path = PROJECT_ROOT) -> str:
    """Each cycle and the files whose imports make it; empty when there is none."""
    edges = dependencies(package, root)
    lines = []
    for component in cycles(package, root):
        lines.append("cycle: " + " <-> ".join(part.split(".", 1)[1] for part in component))
        for (importer, imported), files in sorted(edges.items()):
            if importer in component and imported in component:
                lines.append(f"  {importer} -> {imported}: {', '.join(sorted(files))}")
    return "\n".join(lines)


def main() -> int:
    package = sys.argv[1] if len(sys.argv) > 1 else "bot"
    text = report(package)
    print(text or f"no import cycles between the parts of {package}")
    return 1 if text else 0


if __name__ == "__main__":
    sys.exit(main())
