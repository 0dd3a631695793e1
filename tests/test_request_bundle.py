"""requests.csv in the data bundle, on both databases: imported with the map in one
transaction (history as events), located problems change nothing, exported back."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from valuechain import Valuechain
from valuechain.services import request as requests
from valuechain.services.bundle import BundleError, export_bundle, import_bundle
from valuechain.services.errors import NotFound

ROOT = Path(__file__).resolve().parents[1] / "examples"
CLI = requests.Asker(None, "cli:test")


def bundle_with_requests(tmp_path: Path, text: str | None = None) -> Path:
    folder = tmp_path / "bundle"
    shutil.copytree(ROOT / "bundle", folder)
    source = ROOT / "request" / "requests.csv"
    (folder / "requests.csv").write_text(text if text is not None else source.read_text())
    return folder


def test_requests_csv_imports_with_the_map_and_exports_back(vc: Valuechain, tmp_path: Path) -> None:
    summary = import_bundle(vc, bundle_with_requests(tmp_path))
    assert summary.rows["requests"] == 3
    r1 = requests.get(vc, CLI, "req-1")
    assert [e["verb"] for e in r1["timeline"]] == ["new", "ack", "resolve", "thank"]
    assert (r1["state"], r1["priority"], r1["category"]) == ("resolved", "high", "plan change")
    assert requests.get(vc, CLI, "req-3")["state"] == "acknowledged"
    assert len(requests.sla(vc)["relationships"]) == 2
    out = tmp_path / "out"
    export_bundle(vc, out)
    with (out / "requests.csv").open() as handle:
        exported = list(csv.DictReader(handle))
    with (ROOT / "request" / "requests.csv").open() as handle:
        original = list(csv.DictReader(handle))
    assert [r["id"] for r in exported] == [r["id"] for r in original]
    assert [r["thanked"] for r in exported] == [r["thanked"] for r in original]
    # The export imports again into an empty organisation and gives the same requests.
    other = Valuechain(vc.engine, vc.organisation + "-copy", create=True)
    import_bundle(other, out)
    assert requests.get(other, CLI, "req-1")["timeline"] == r1["timeline"]
    # Replacing the organisation replaces its requests too.
    (out / "requests.csv").unlink()
    import_bundle(vc, out, replace=True)
    with pytest.raises(NotFound, match="no request"):
        requests.get(vc, CLI, "req-1")


def test_a_bad_requests_csv_is_located_and_changes_nothing(vc: Valuechain, tmp_path: Path) -> None:
    text = (
        "id,customer_id,provider_id,created_at,first_response_at,resolved_at,priority,"
        "category,thanked\n"
        "a,pack,plan,2026-11-02T09:00:00Z,2026-11-01T09:00:00Z,,,,0\n"
        "b,pack,nowhere,2026-11-02T09:00:00Z,,,,,0\n"
        "c,pack,plan,2026-11-02T09:00:00Z,,,asap,,1\n"
        "a,pack,pack,yesterday,,,,,0\n"
    )
    with pytest.raises(BundleError) as caught:
        import_bundle(vc, bundle_with_requests(tmp_path, text))
    found = {(p.line, p.column) for p in caught.value.problems}
    assert {
        (2, "first_response_at"),
        (3, "provider_id"),
        (4, "priority"),
        (4, "thanked"),
        (5, "id"),
        (5, "created_at"),
        (5, "provider_id"),
    } <= found
    assert vc.counts().get("units", 0) == 0  # nothing of the bundle was written
