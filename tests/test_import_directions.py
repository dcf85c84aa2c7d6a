"""The rooms of docs/architecture.md import only downwards: read from the source, every import
(at the top of a module or inside a function) of every module of the package."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "tickercast"
ROOMS = ("data", "model", "record", "web")
COMMANDS = {"__main__", "cli", "up", "processes", "record_commands"}  # the top: may import any
# What each room may import of the others (the shared modules below them are open to all).
MAY_IMPORT = {
    "shared": set(),
    "data": set(),
    "model": set(),
    "record": set(),
    "web": {"data", "record"},
}


def room_of(module: str) -> str:
    """`tickercast.web.app` -> "web"; a top-level module is "shared" unless it is a command."""
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in ROOMS:
        return parts[1]
    if len(parts) > 1 and parts[1] in COMMANDS:
        return "commands"
    return "shared"


def imports() -> list[tuple[str, str]]:
    """(importing module, imported module) for every import in the package."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((module, node.module))
            elif isinstance(node, ast.Import):
                found += [(module, alias.name) for alias in node.names]
    return found


def test_every_room_imports_only_downwards() -> None:
    wrong = []
    for module, imported in imports():
        if not imported.startswith("tickercast"):
            continue
        here, there = room_of(module), room_of(imported)
        if here == "commands" or there in ("shared", here):
            continue
        if there == "commands" or there not in MAY_IMPORT[here]:
            wrong.append(f"{module} imports {imported}")
    assert wrong == []


def test_prophet_is_touched_only_in_its_seam() -> None:
    users = {m for m, imported in imports() if imported.split(".")[0] in ("prophet", "cmdstanpy")}
    assert users and all(m.startswith("tickercast.model.prophet_seam.") for m in users)


def test_the_test_sees_the_imports_it_judges() -> None:
    found = imports()
    assert ("tickercast.web.app", "tickercast.data.prices") in found
    assert room_of("tickercast.web.app") == "web" and room_of("tickercast.store") == "shared"
    assert room_of("tickercast.cli") == "commands"
