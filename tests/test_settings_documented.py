"""Every setting is in the README's settings table, with its real default."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic.fields import FieldInfo

from tickercast.settings import ModelSettings, WebSettings

README = Path(__file__).resolve().parents[1] / "README.md"


def documented() -> dict[str, str]:
    text = README.read_text()
    section = text.split("## Settings", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z_]+)` \| ([^|]+) \|", section, flags=re.M)
    return {name: default.strip() for name, default in rows}


def expected_default(field: FieldInfo) -> str:
    if field.is_required():
        return "(required)"
    if field.default is None:
        return "unset"
    return f"`{field.default}`"


FIELDS = {**ModelSettings.model_fields, **WebSettings.model_fields}


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_setting_is_documented_with_its_default(name: str) -> None:
    table = documented()
    assert name.upper() in table, f"{name.upper()} is missing from the README settings table"
    assert table[name.upper()] == expected_default(FIELDS[name])


def test_table_lists_no_setting_that_does_not_exist() -> None:
    assert set(documented()) == {name.upper() for name in FIELDS}
