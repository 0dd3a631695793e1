"""A workbook cannot unpack without bound: the import checks the sizes its zip
entries declare (all together, and each entry's compression ratio) before reading a
byte of them, and counts cells while it streams the sheets. A zip bomb is refused
in well under a second, naming the file, with little memory; the limits are
parameters, lowered here so the bombs stay small."""

from __future__ import annotations

import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from valuechain import Valuechain
from valuechain.services.bundle import (
    BundleError,
    WorkbookLimits,
    export_bundle,
    import_bundle,
    read_bundle,
)

SMALL = Path(__file__).resolve().parents[1] / "examples" / "bundle"
ROW = b'<row><c t="inlineStr"><is><t>x</t></is></c><c t="inlineStr"><is><t>y</t></is></c></row>'


def bomb(source: Path, target: Path, unpacked: int) -> None:
    """``source`` (a workbook) with its ``units`` sheet padded to ``unpacked`` bytes of
    highly compressible rows, streamed into the zip (never held in memory)."""
    with zipfile.ZipFile(source) as book, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in book.infolist():
            data = book.read(info)
            if info.filename != "xl/worksheets/sheet1.xml":
                out.writestr(info, data)
                continue
            head, _, tail = data.partition(b"</sheetData>")
            with out.open(info.filename, "w", force_zip64=True) as sheet:
                sheet.write(head)  # the real rows first, then the padding
                chunk = ROW * (1 << 14)
                for _ in range(unpacked // len(chunk) + 1):
                    sheet.write(chunk)
                sheet.write(b"</sheetData>" + tail)


@pytest.fixture
def workbook(vc: Valuechain, tmp_path: Path) -> Path:
    import_bundle(vc, SMALL)
    path = tmp_path / "small.xlsx"
    export_bundle(vc, path)
    return path


def refused(path: Path, limits: WorkbookLimits) -> tuple[str, float, int]:
    """The first problem of reading ``path`` under ``limits``, the seconds it took and
    the peak memory it allocated."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(BundleError) as error:
            read_bundle(path, limits=limits)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return str(error.value.problems[0]), seconds, peak


def test_a_zip_bomb_is_refused_by_its_unpacked_size_before_reading(
    workbook: Path, tmp_path: Path
) -> None:
    path = tmp_path / "bomb.xlsx"
    bomb(workbook, path, 64 << 20)
    assert path.stat().st_size < 1 << 20  # a small file that unpacks to 64 MiB
    limits = WorkbookLimits(max_unpacked_bytes=16 << 20, max_ratio=10_000)
    problem, seconds, peak = refused(path, limits)
    assert problem.startswith(str(path))
    assert "at most 16,777,216 bytes" in problem
    assert seconds < 2 and peak < 8 << 20


def test_a_zip_bomb_is_refused_by_its_compression_ratio(workbook: Path, tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    bomb(workbook, path, 8 << 20)
    limits = WorkbookLimits(max_unpacked_bytes=1 << 30, max_ratio=100, ratio_floor=1 << 20)
    problem, seconds, peak = refused(path, limits)
    assert problem.startswith(str(path)) and "xl/worksheets/sheet1.xml" in problem
    assert "compressed at most 100 to 1" in problem
    assert seconds < 2 and peak < 8 << 20


def test_too_many_cells_stop_the_reading_at_the_limit(tmp_path: Path) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("units")
    sheet.append(["id", "name", "kind"])
    for i in range(3000):
        sheet.append([f"u{i}", f"Unit {i}", "team"])
    path = tmp_path / "many.xlsx"
    book.save(path)
    with pytest.raises(BundleError) as error:
        read_bundle(path, limits=WorkbookLimits(max_cells=3000))
    (problem,) = error.value.problems
    assert (problem.file, problem.line) == ("units", 1001)  # 1,001 rows of 3 cells
    assert "at most 3,000 cells" in problem.expected and "many.xlsx" in problem.found
    # Under the default limits the same workbook imports.
    assert read_bundle(path)[1]["units"] == 3000


def test_the_defaults_admit_an_ordinary_workbook(workbook: Path) -> None:
    assert read_bundle(workbook)[1]["units"] == 12
    assert WorkbookLimits().max_unpacked_bytes == 1 << 30
