"""Hypothesis over the bundle importer: whatever the files hold, the import either
succeeds or refuses with every problem located, never crashes, and a refused import
leaves the organisation exactly as it was."""

from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from valuechain import Valuechain
from valuechain.services.bundle import BundleError, export_bundle, import_bundle
from valuechain.store.database import make_engine

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "bundle"
FILES = ("units.csv", "results.csv", "links.csv", "people.csv")

# Cell values that exercise every parser: ids, enums, numbers and their edge cases.
NASTY = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "pack",
            "ship",
            "retail",
            "boxes",
            "team",
            "external_customer",
            "consumes",
            "lead",
            "-1",
            "0",
            "1e308",
            "1e309",
            "nan",
            "inf",
            "3.5",
            "1,5",
            "=SUM(A1)",
            '"',
            "a\nb",
            "x@example.org",
            "ana.lima@example.org",
        ]
    ),
    st.text(max_size=12),
)


@st.composite
def mutated_bundles(draw: st.DrawFn) -> dict[str, str]:
    """The example bundle with a few random edits: cells replaced, rows dropped or
    doubled, columns renamed or dropped, a file removed."""
    files: dict[str, list[list[str]]] = {}
    for name in FILES:
        with (EXAMPLE / name).open(encoding="utf-8", newline="") as handle:
            files[name] = [list(row) for row in csv.reader(handle)]
    for _ in range(draw(st.integers(1, 6))):
        name = draw(st.sampled_from(FILES))
        rows = files[name]
        action = draw(
            st.sampled_from(["cell", "cell", "cell", "drop", "double", "header", "ragged"])
        )
        if action == "cell" and len(rows) > 1:
            row = draw(st.integers(1, len(rows) - 1))
            col = draw(st.integers(0, len(rows[row]) - 1))
            rows[row][col] = draw(NASTY)
        elif action == "drop" and len(rows) > 1:
            del rows[draw(st.integers(1, len(rows) - 1))]
        elif action == "double" and len(rows) > 1:
            rows.append(list(rows[draw(st.integers(1, len(rows) - 1))]))
        elif action == "header":
            col = draw(st.integers(0, len(rows[0]) - 1))
            rows[0][col] = draw(st.sampled_from(["", "ID", "colour", rows[0][col] + " "]))
        elif action == "ragged" and len(rows) > 1:
            rows[draw(st.integers(1, len(rows) - 1))].append(draw(NASTY))
    if draw(st.booleans()) and draw(st.booleans()):
        files.pop(draw(st.sampled_from(FILES)))
    texts = {}
    for name, rows in files.items():
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        texts[name] = out.getvalue()
    return texts


@pytest.fixture(scope="module")
def stocked(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Valuechain, dict[str, bytes]]]:
    """An organisation holding the example, and its export to compare against."""
    folder = tmp_path_factory.mktemp("fuzz")
    vc = Valuechain(
        make_engine(f"sqlite:///{folder / 'fuzz.db'}", create=True), "fuzz", create=True
    )
    import_bundle(vc, EXAMPLE)
    export_bundle(vc, folder / "before")
    yield vc, {name: (folder / "before" / name).read_bytes() for name in FILES}
    vc.engine.dispose()


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(bundle=mutated_bundles())
def test_importer_never_crashes_and_locates_every_problem(
    stocked: tuple[Valuechain, dict[str, bytes]], bundle: dict[str, str]
) -> None:
    vc, before = stocked
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "bundle"
        folder.mkdir()
        lines: dict[str, int] = {}
        headers: dict[str, set[str]] = {}
        for name, text in bundle.items():
            (folder / name).write_text(text, encoding="utf-8")
            # Lines as the importer counts them: universal newlines (\r\n, \r or \n).
            lines[name] = len(re.findall(r"\r\n|\r|\n", text))
            # The importer reads header names without surrounding spaces.
            headers[name] = {h.strip() for h in next(csv.reader(io.StringIO(text)), [])}
        try:
            import_bundle(vc, folder)
        except BundleError as error:
            event("refused")
            assert error.problems, "a refusal names at least one problem"
            for problem in error.problems:
                assert problem.expected and problem.found is not None
                if problem.line is None:
                    continue
                assert problem.file in bundle, problem
                assert 1 <= problem.line <= lines[problem.file], problem
                if problem.column is not None:
                    assert problem.column in headers[problem.file] or problem.line == 1, problem
            out = Path(work) / "after"
            export_bundle(vc, out)
            assert {name: (out / name).read_bytes() for name in FILES} == before
        else:
            event("accepted")
            # An accepted bundle is put back, so every example starts from the same state.
            shutil.rmtree(folder)
            import_bundle(vc, EXAMPLE, replace=True)


def test_a_headcount_too_big_to_store_is_a_located_problem(
    stocked: tuple[Valuechain, dict[str, bytes]], tmp_path: Path
) -> None:
    """Found by the fuzzer: 1e308 parsed as a whole number and crashed the write."""
    vc, _ = stocked
    folder = tmp_path / "bundle"
    shutil.copytree(EXAMPLE, folder)
    units = (folder / "units.csv").read_text(encoding="utf-8").splitlines()
    units[1] = units[1].rsplit(",", 1)[0] + ",1e308"
    (folder / "units.csv").write_text("\n".join(units) + "\n", encoding="utf-8")
    with pytest.raises(BundleError) as refused:
        import_bundle(vc, folder)
    (problem,) = refused.value.problems
    assert (problem.file, problem.line, problem.column) == ("units.csv", 2, "headcount")
    assert "2,147,483,647" in problem.expected
