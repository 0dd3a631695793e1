"""docs/bundle.md documents every bundle file and column, and its example is the
fixture bundle the tests import."""

from __future__ import annotations

import re
from pathlib import Path

from valuechain.domain.bundle import LATER_TABLES, SCHEMA

ROOT = Path(__file__).parent.parent
DOC = (ROOT / "docs" / "bundle.md").read_text(encoding="utf-8")
SMALL = ROOT / "examples" / "bundle"
MEASURE = ROOT / "examples" / "measure"  # survey files, imported after SMALL
CONNECT = ROOT / "examples" / "connect"  # outcomes, imported after SMALL
AGREE = ROOT / "examples" / "agree"  # calendars, agreements, commitments
REQUEST = ROOT / "examples" / "request"  # requests


def section(file_name: str) -> str:
    start = DOC.index(f"### `{file_name}`")
    end = DOC.find("\n### ", start + 1)
    return DOC[start:end]


def test_every_column_is_documented_with_its_requiredness() -> None:
    for schema in SCHEMA.values():
        text = section(schema.file_name)
        for column in schema.columns:
            row = re.search(rf"^\| `{column.name}` \| (yes|optional) \|", text, re.MULTILINE)
            assert row is not None, f"{schema.file_name}: {column.name} undocumented"
            assert (row.group(1) == "yes") == column.required, column.name
            if column.choices is not None:
                for choice in column.choices:
                    assert (
                        f"`{choice.value}`"
                        in row.string[row.start() : text.find("\n", row.start())]
                    )


def test_later_capability_files_are_named() -> None:
    for table in LATER_TABLES:
        assert f"`{table}.csv`" in DOC


def test_the_example_is_the_fixture_bundle() -> None:
    for schema in SCHEMA.values():
        block = re.search(rf"`{schema.file_name}`\n\n```csv\n(.*?)```", DOC, re.DOTALL)
        assert block is not None, schema.file_name
        folder = next(
            f for f in (SMALL, MEASURE, CONNECT, AGREE, REQUEST) if (f / schema.file_name).exists()
        )
        assert block.group(1) == (folder / schema.file_name).read_text(encoding="utf-8")
