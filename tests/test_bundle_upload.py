"""Uploading a bundle over HTTP (``POST /api/v1/import``), against a real uvicorn
server on loopback: a good bundle previews then imports, audited; a broken one
answers the problems ``valuechain import`` prints for the same files and changes
nothing; zip and xlsx bombs are refused in seconds with bounded memory; only admins
may upload."""

from __future__ import annotations

import functools
import io
import shutil
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from typer.testing import CliRunner

from tests.browser.conftest import serving
from tests.conftest import TEST_SECURITY
from tests.signin import PASSWORD, make_account
from valuechain import Valuechain
from valuechain.cli.main import app as cli_app
from valuechain.domain.account import AccountRole
from valuechain.services import audit
from valuechain.services.bundle import BundleError
from valuechain.services.bundle_upload import ArchiveLimits, stream_entries, unpack
from valuechain.web.app import create_app

SMALL = Path(__file__).resolve().parents[1] / "examples" / "bundle"
GIB = 1 << 30


def zipped(folder: Path, prefix: str = "") -> bytes:
    """The CSV files of ``folder`` as a zip (under ``prefix``, as zipping a folder does)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, prefix + path.name)
    return buffer.getvalue()


@functools.cache
def bomb(kind: str) -> bytes:
    """A zip holding 1 GiB of zeros (packed into ~4.6 MB, built once): an ``.xlsx``
    whose sheet is the zeros, or a ``.zip`` whose CSV file is."""
    buffer = io.BytesIO()
    entry = "xl/worksheets/sheet1.xml" if kind == ".xlsx" else "units.csv"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        if kind == ".xlsx":
            archive.writestr("[Content_Types].xml", "<Types/>")
            archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open(entry, "w", force_zip64=True) as out:
            zeros = bytes(1 << 20)
            for _ in range(GIB >> 20):
                out.write(zeros)
    return buffer.getvalue()


def bearer(url: str, email: str) -> dict[str, str]:
    answer = httpx.post(f"{url}/api/v1/session", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


@pytest.fixture
def server(vc: Valuechain) -> Iterator[tuple[str, dict[str, str]]]:
    make_account(vc)
    with serving(lambda _url: create_app(vc)) as url:
        yield url, bearer(url, "admin@example.org")


def upload(
    url: str, headers: dict[str, str], name: str, data: bytes, **fields: str
) -> httpx.Response:
    return httpx.post(
        f"{url}/api/v1/import",
        data=fields,
        files={"file": (name, data, "application/octet-stream")},
        headers=headers,
        timeout=60,
    )


def test_a_good_bundle_previews_then_imports(
    vc: Valuechain, server: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, admin = server
    preview = upload(url, admin, "bundle.zip", zipped(SMALL, "bundle/"))
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["dry_run"] and not body["applied"] and body["problems"] == []
    assert body["changes"]["units"] == {"added": 12, "changed": 0, "unchanged": 0, "removed": 0}
    assert body["changes"]["links"]["added"] == 10
    assert vc.counts() == {"units": 0, "results": 0, "links": 0, "people": 0}  # a dry run

    done = upload(url, admin, "bundle.zip", zipped(SMALL), dry_run="false")
    assert done.status_code == 200, done.text
    assert done.json()["applied"] and done.json()["rows"]["units"] == 12
    assert vc.counts() == {"units": 12, "results": 9, "links": 10, "people": 5}
    event = audit.read_page(vc, 1, 1).events[0]
    assert (event.action, event.subject, event.outcome) == (
        audit.IMPORT,
        "upload:bundle.zip",
        audit.SUCCESS,
    )
    assert event.actor == "admin@example.org"

    # Changed again: one unit renamed, one added; with replace, what is not in the
    # bundle would go.
    changed = tmp_path / "changed"
    shutil.copytree(SMALL, changed)
    units = (changed / "units.csv").read_text().replace("Operations", "Ops")
    (changed / "units.csv").write_text(units + "newco,New Co,team,ops,3\n")
    again = upload(url, admin, "changed.zip", zipped(changed)).json()["changes"]
    assert again["units"] == {"added": 1, "changed": 1, "unchanged": 11, "removed": 0}
    (changed / "links.csv").write_text("result_id,customer_id,relation,demand\n")
    replacing = upload(url, admin, "changed.zip", zipped(changed), replace="true").json()
    assert replacing["replace"] and replacing["changes"]["links"]["removed"] == 10


def test_a_broken_bundle_answers_the_command_lines_problems(
    vc: Valuechain,
    server: tuple[str, dict[str, str]],
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    url, admin = server
    broken = tmp_path / "broken"
    shutil.copytree(SMALL, broken)
    units = (broken / "units.csv").read_text().replace("48", "many", 1)
    (broken / "units.csv").write_text(units)
    links = (broken / "links.csv").read_text()
    (broken / "links.csv").write_text(links + "cartons,nobody,consumes,1\n")

    result = CliRunner().invoke(cli_app, ["import", str(broken)])
    assert result.exit_code == 2
    printed = [line[2:] for line in result.stderr.splitlines() if line.startswith("  ")]
    assert len(printed) >= 2

    preview = upload(url, admin, "broken.zip", zipped(broken, "broken/"))
    assert preview.status_code == 200
    assert [p["text"] for p in preview.json()["problems"]] == printed
    assert {(p["file"], p["column"]) for p in preview.json()["problems"]} >= {
        ("units.csv", "headcount"),
        ("links.csv", "customer_id"),
    }
    refused = upload(url, admin, "broken.zip", zipped(broken), dry_run="false")
    assert refused.status_code == 200
    assert not refused.json()["applied"]
    assert [p["text"] for p in refused.json()["problems"]] == printed
    assert vc.counts() == {"units": 0, "results": 0, "links": 0, "people": 0}


def test_a_workbook_is_previewed_as_the_command_line_reads_it(
    vc: Valuechain, server: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, admin = server
    from valuechain.services.bundle import export_bundle, import_bundle

    import_bundle(vc, SMALL)
    export_bundle(vc, tmp_path / "map.xlsx")
    answer = upload(url, admin, "map.xlsx", (tmp_path / "map.xlsx").read_bytes())
    assert answer.status_code == 200, answer.text
    assert answer.json()["changes"]["units"] == {
        "added": 0,
        "changed": 0,
        "unchanged": 12,
        "removed": 0,
    }


def test_only_admins_may_upload(vc: Valuechain, server: tuple[str, dict[str, str]]) -> None:
    url, _ = server
    make_account(vc, "lead@example.org", AccountRole.LEAD)
    lead = bearer(url, "lead@example.org")
    assert upload(url, lead, "bundle.zip", zipped(SMALL), dry_run="false").status_code == 403
    assert upload(url, lead, "bundle.zip", zipped(SMALL)).status_code == 403
    assert vc.counts()["units"] == 0


# -- bombs: one SQLite server for the module; nothing reaches the database ------------


@pytest.fixture(scope="module")
def bomb_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, dict[str, str], Valuechain]]:
    vc = Valuechain.open(
        f"sqlite:///{tmp_path_factory.mktemp('bomb') / 'v.db'}", security=TEST_SECURITY, create=True
    )
    make_account(vc)
    with serving(lambda _url: create_app(vc)) as url:
        yield url, bearer(url, "admin@example.org"), vc


class PeakMemory:
    """The process's largest resident set while the block runs (sampled every 5 ms)."""

    def __enter__(self) -> PeakMemory:
        self.process = psutil.Process()
        self.base = self.peak = self.process.memory_info().rss
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.005)

    def __exit__(self, *_: object) -> None:
        self.running = False
        self.thread.join()


@pytest.mark.parametrize("name", ["bomb.zip", "bomb.xlsx"])
def test_a_bomb_is_refused_in_seconds_with_bounded_memory(
    bomb_server: tuple[str, dict[str, str], Valuechain], name: str
) -> None:
    url, admin, vc = bomb_server
    data = bomb(Path(name).suffix)
    assert len(data) < 8 << 20
    for dry_run in ("true", "false"):
        with PeakMemory() as memory:
            started = time.monotonic()
            answer = upload(url, admin, name, data, dry_run=dry_run)
            took = time.monotonic() - started
        assert took < 5, took
        assert memory.peak - memory.base < 100 << 20
        problems = answer.json()["problems"]
        assert answer.status_code == 200 and not answer.json()["applied"]
        assert problems[0]["file"] == name
        assert "at most" in problems[0]["expected"]  # the ratio or the total
    event = audit.read_page(vc, 1, 1).events[0]
    assert (event.subject, event.outcome) == (f"upload:{name}", audit.FAILED)


def test_an_archive_is_measured_by_what_it_unpacks_not_what_it_declares(tmp_path: Path) -> None:
    """The streaming count alone (declared sizes not consulted) stops a bomb after the
    limit, not after the whole gigabyte."""
    path = tmp_path / "bomb.zip"
    path.write_bytes(bomb(".zip"))
    for limits in (
        ArchiveLimits(max_unpacked_bytes=32 << 20, max_ratio=1e9),  # the total
        ArchiveLimits(max_ratio=10),  # the ratio (to the entry's compressed size)
    ):
        started = time.monotonic()
        with zipfile.ZipFile(path) as archive, pytest.raises(BundleError) as refused:
            stream_entries(archive, "bomb.zip", limits)
        # ~0.1 s on an idle machine; the bound leaves room for a loaded one.
        assert time.monotonic() - started < 5
        assert refused.value.problems[0].file == "bomb.zip"


def test_a_zip_is_flattened_and_its_own_parts_ignored(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bundle/units.csv", "id,name,kind\n")
        archive.writestr("__MACOSX/bundle/._units.csv", "junk")
        archive.writestr("bundle/.DS_Store", "junk")
        archive.writestr("../../etc/links.csv", "result_id,customer_id,relation\n")
    (tmp_path / "up").write_bytes(buffer.getvalue())
    (tmp_path / "out").mkdir()
    folder = unpack(tmp_path / "up", "b.zip", tmp_path / "out")
    assert sorted(p.name for p in folder.iterdir()) == ["links.csv", "units.csv"]
    assert folder.parent == tmp_path / "out"
    with pytest.raises(BundleError, match=r"a \.zip of the bundle's CSV files"):
        unpack(tmp_path / "up", "b.tar", tmp_path / "out")
