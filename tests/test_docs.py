"""Documentation keeps up with the code: every command, option and API path is
described in docs/ (a command nobody can find is a command nobody uses)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import typer.main
from fastapi.testclient import TestClient

from valuechain import Valuechain
from valuechain.cli.main import app
from valuechain.web.app import create_app

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _commands() -> dict[str, Any]:
    # Typer builds on its own copy of click, so look for the group's commands by duck type.
    commands: dict[str, Any] = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    return dict(commands)


def test_every_command_and_option_is_documented() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    commands = _commands()
    assert {"import", "export", "customers", "map", "serve", "demo"} <= commands.keys()
    for name, command in commands.items():
        assert f"## `valuechain {name}`" in text, f"docs/cli.md has no section for {name}"
        for param in command.params:
            for option in getattr(param, "opts", []):
                if option.startswith("--") and option != "--help":
                    assert option in text, f"docs/cli.md does not mention {name} {option}"


def test_every_api_path_is_documented(tmp_path: Path) -> None:
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    vc = Valuechain.open(f"sqlite:///{tmp_path / 'docs.db'}", create=True)
    schema = TestClient(create_app(vc)).get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method in operations:
            assert f"`{method.upper()} {path}`" in text, f"docs/api.md lacks {method} {path}"
    vc.engine.dispose()


# A table row of docs/api.md: its first cell names one operation.
ROW = re.compile(r"^\| `(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)` \|", re.MULTILINE)
# Any operation or API path the page names in code quotes, in a row or in prose.
NAMED = re.compile(r"`(?:(?:GET|POST|PUT|PATCH|DELETE) )?(/api/v1/[^`\s?]*)[^`]*`")


def test_api_md_lists_every_operation_exactly_once_and_nothing_else(tmp_path: Path) -> None:
    """docs/api.md and the OpenAPI schema in step: one table row per operation of the
    schema, none twice, and every path the page names exists."""
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    vc = Valuechain.open(f"sqlite:///{tmp_path / 'docs.db'}", create=True)
    schema = create_app(vc).openapi()
    vc.engine.dispose()
    operations = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    rows = Counter((m, p) for m, p in ROW.findall(text))
    assert not {op: n for op, n in rows.items() if n > 1}, "operations listed twice"
    assert operations - rows.keys() == set(), "operations missing from docs/api.md"
    assert rows.keys() - operations == set(), "rows for operations the API does not have"
    named = set(NAMED.findall(text))
    assert named - set(schema["paths"]) == set(), "paths in docs/api.md the API does not have"
