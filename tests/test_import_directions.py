"""The packages of docs/architecture.md import only downwards: read from the source, every import
(at the top of a module or inside a function) of every module of the package.

A module's layer is read off its package's name, so a new module needs no entry here."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "tickercast"

# Floors, lowest first. A module may import its own floor's package and anything on a floor
# below, never a sibling package on its own floor nor anything above.
FLOORS: list[set[str]] = [
    {"errors", "__init__"},  # the exception tree and the package's version
    {"quant", "runtime"},  # pure numbers; plumbing
    {"contract", "settings"},  # the wire, the settings
    {"data", "model", "record"},  # prices; the model service; the track record
    {"web"},  # the web app
    {"cli"},  # every command
    {"__main__"},
]
# What one floor's packages may import of a sibling on the same floor (none, today).
SIBLINGS: dict[str, set[str]] = {"contract": set(), "settings": set()}


def room_of(module: str) -> str:
    """`tickercast.web.app` -> "web"; `tickercast.errors` -> "errors"; `tickercast` ->
    "__init__"."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def floor_of(room: str) -> int:
    for number, rooms in enumerate(FLOORS):
        if room in rooms:
            return number
    raise AssertionError(f"{room} is on no floor: add it to FLOORS")


def imports() -> list[tuple[str, str]]:
    """(importing module, imported module) for every import in the package."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found += [(module, f"{node.module}.{alias.name}") for alias in node.names]
            elif isinstance(node, ast.Import):
                found += [(module, alias.name) for alias in node.names]
    return found


def target_of(imported: str) -> str:
    """`from tickercast import __version__` names the package itself, `from tickercast.quant
    import walk` the `quant` package."""
    parts = imported.split(".")
    if len(parts) > 1 and (PACKAGE / parts[1]).with_suffix(".py").exists():
        return parts[1]
    if len(parts) > 1 and (PACKAGE / parts[1]).is_dir():
        return parts[1]
    return "__init__"


def test_every_package_imports_only_downwards() -> None:
    wrong = []
    for module, imported in imports():
        if imported.split(".")[0] != "tickercast":
            continue
        here, there = room_of(module), target_of(imported)
        if here == there:
            continue
        if floor_of(there) > floor_of(here):
            wrong.append(f"{module} imports {imported} (upward)")
        elif floor_of(there) == floor_of(here) and there not in SIBLINGS.get(here, set()):
            wrong.append(f"{module} imports {imported} (a sibling on its floor)")
    assert wrong == []


def test_only_the_wire_settings_and_errors_stay_at_the_top() -> None:
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top == {"__init__", "__main__", "contract", "settings", "errors"}


def test_prophet_is_touched_only_in_its_seam() -> None:
    users = {m for m, imported in imports() if imported.split(".")[0] in ("prophet", "cmdstanpy")}
    assert users and all(m.startswith("tickercast.model.prophet_seam.") for m in users)


def test_the_test_sees_the_imports_it_judges() -> None:
    found = imports()
    assert ("tickercast.web.app", "tickercast.data.prices.PriceBook") in found
    assert floor_of(room_of("tickercast.web.app")) > floor_of(room_of("tickercast.data.prices"))
    assert target_of("tickercast.quant.walk") == "quant" and target_of("tickercast.__version__")
    assert room_of("tickercast.cli.up") == "cli" and floor_of("cli") > floor_of("web")
