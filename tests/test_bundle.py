"""Data bundle import and export on both databases: round trips, all-or-nothing,
update by id and replace, and where each kind of problem is reported."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from valuechain import Valuechain
from valuechain.domain.bundle import BundleProblem
from valuechain.domain.link import Link, Relation
from valuechain.domain.unit import UnitKind
from valuechain.services.bundle import BundleError, export_bundle, import_bundle

SMALL = Path(__file__).resolve().parents[1] / "examples" / "bundle"
FILES = ("units.csv", "results.csv", "links.csv", "people.csv")


def copy_small(tmp_path: Path) -> Path:
    """A writable copy of the example bundle."""
    target = tmp_path / "bundle"
    shutil.copytree(SMALL, target)
    return target


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8", newline="") as out:
        out.write(text)


def second(vc: Valuechain) -> Valuechain:
    """Another empty organisation in the same database."""
    return Valuechain(vc.engine, vc.organisation + "-b", create=True)


def problems_of(vc: Valuechain, bundle: Path, *, replace: bool = False) -> list[BundleProblem]:
    with pytest.raises(BundleError) as raised:
        import_bundle(vc, bundle, replace=replace)
    return raised.value.problems


def read_files(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in FILES}


def sheet_values(path: Path) -> dict[str, list[tuple[object, ...]]]:
    book = load_workbook(path, read_only=True)
    try:
        return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}
    finally:
        book.close()


# -- round trips -------------------------------------------------------------------


def test_import_builds_the_example_organisation(vc: Valuechain) -> None:
    summary = import_bundle(vc, SMALL)
    assert summary.rows == {
        "units": 12,
        "results": 9,
        "links": 10,
        "people": 5,
        "items": 0,
        "responses": 0,
        "outcomes": 0,
        "calendars": 0,
        "agreements": 0,
        "commitments": 0,
        "requests": 0,
    }
    assert vc.counts() == {"units": 12, "results": 9, "links": 10, "people": 5}
    org = vc.read_map()
    units = {u.id: u for u in org.units}
    assert units["pack"].parent_id == "ops" and units["pack"].headcount == 12
    assert units["retail"].kind is UnitKind.EXTERNAL_CUSTOMER and units["retail"].headcount is None
    results = {r.id: r for r in org.results}
    assert results["parcels"].cost_per_item == 4.25 and results["parcels"].revenue_per_item == 19.9
    assert results["scrap"].capacity is None
    assert Link("boxes", "qa", Relation.ADDS_TO, None) in org.links
    people = {p.id: p for p in org.people}
    assert people["p04"].name == "O'Brien, Dara"
    assert vc.customers("pack")["external"] == ["retail", "webshop"]


def test_csv_round_trip_gives_identical_files(vc: Valuechain, tmp_path: Path) -> None:
    import_bundle(vc, SMALL)
    export_bundle(vc, tmp_path / "first")
    other = second(vc)
    import_bundle(other, tmp_path / "first")
    export_bundle(other, tmp_path / "second")
    first, again = read_files(tmp_path / "first"), read_files(tmp_path / "second")
    assert first == again
    assert first["units.csv"].startswith(b"id,name,kind,parent_id,headcount\n")
    assert other.read_map() == vc.read_map()


def test_xlsx_round_trip_gives_identical_sheets(vc: Valuechain, tmp_path: Path) -> None:
    import_bundle(vc, SMALL)
    export_bundle(vc, tmp_path / "first.xlsx")
    other = second(vc)
    import_bundle(other, tmp_path / "first.xlsx")
    export_bundle(other, tmp_path / "second.xlsx")
    first, again = sheet_values(tmp_path / "first.xlsx"), sheet_values(tmp_path / "second.xlsx")
    assert first == again
    assert list(first) == ["units", "results", "links", "people"]
    assert first["units"][0] == ("id", "name", "kind", "parent_id", "headcount")
    assert other.read_map() == vc.read_map()


def test_round_trip_keeps_awkward_text_and_exact_floats(vc: Valuechain, tmp_path: Path) -> None:
    bundle = tmp_path / "awkward"
    bundle.mkdir()
    (bundle / "units.csv").write_text(
        "\ufeffid,name,kind\n"
        'u1,"Line one\nline two, with ""quotes""",team\n'
        "=u2,=SUM(A1:A2),external_customer\n"
        "007,Zürich — 東京,department\n",
        encoding="utf-8",
    )
    (bundle / "results.csv").write_text(
        "id,unit_id,name,kind,capacity,cost_per_item\n"
        "r1,u1,Thing,finished,0.1,1e-07\n"
        "r2,007,Other,byproduct,12345678.901234567,-3.5\n",
        encoding="utf-8",
    )
    import_bundle(vc, bundle)
    original = vc.read_map()
    assert {r.id: r.capacity for r in original.results} == {"r1": 0.1, "r2": 12345678.901234567}
    for target in ("out", "out.xlsx"):
        other = Valuechain(vc.engine, f"{vc.organisation}-{target}", create=True)
        export_bundle(vc, tmp_path / target)
        import_bundle(other, tmp_path / target)
        assert other.read_map() == original, target


# -- all or nothing ----------------------------------------------------------------


def snapshot(vc: Valuechain, folder: Path) -> tuple[dict[str, int], dict[str, bytes]]:
    export_bundle(vc, folder)
    return vc.counts(), read_files(folder)


@pytest.mark.parametrize("already_has_data", [False, True])
def test_one_bad_link_deep_in_the_file_changes_nothing(
    vc: Valuechain, tmp_path: Path, already_has_data: bool
) -> None:
    if already_has_data:
        import_bundle(vc, SMALL)
    before = snapshot(vc, tmp_path / "before")
    bundle = copy_small(tmp_path)
    # New units and many good links, then one link to a unit that exists nowhere.
    append(bundle / "units.csv", "".join(f"n{i},New {i},team,ops,1\n" for i in range(50)))
    append(bundle / "links.csv", "".join(f"boxes,n{i},consumes,1\n" for i in range(50)))
    append(bundle / "links.csv", "boxes,nobody,consumes,1\n")
    for replace in (False, True):
        found = problems_of(vc, bundle, replace=replace)
        assert [(p.file, p.line, p.column) for p in found] == [("links.csv", 62, "customer_id")]
        assert snapshot(vc, tmp_path / f"after-{replace}") == before


# -- where problems are reported ---------------------------------------------------


def test_unknown_unit_is_located(vc: Valuechain, tmp_path: Path) -> None:
    bundle = copy_small(tmp_path)
    append(bundle / "results.csv", "ghost_result,nowhere,Ghost,finished,,,\n")
    append(bundle / "people.csv", "p99,Zed,zed@example.org,nowhere,member\n")
    found = problems_of(vc, bundle)
    assert [(p.file, p.line, p.column, p.found) for p in found] == [
        ("results.csv", 11, "unit_id", "'nowhere'"),
        ("people.csv", 7, "unit_id", "'nowhere'"),
    ]
    assert found[0].expected == "the id of a unit in units.csv or already stored"


def test_unknown_parent_and_self_parent(vc: Valuechain, tmp_path: Path) -> None:
    bundle = copy_small(tmp_path)
    append(bundle / "units.csv", "x1,X,team,nowhere,\nx2,Y,team,x2,\n")
    found = problems_of(vc, bundle)
    assert [(p.file, p.line, p.column) for p in found] == [
        ("units.csv", 14, "parent_id"),
        ("units.csv", 15, "parent_id"),
    ]
    assert "the unit itself" in found[1].found


def test_parent_cycles_of_any_length_are_refused_with_file_and_line(
    vc: Valuechain, tmp_path: Path
) -> None:
    bundle = copy_small(tmp_path)
    append(
        bundle / "units.csv",
        # a two-cycle, a three-cycle, and a unit hanging below a cycle (not itself on one)
        "a,A,team,b,\nb,B,team,a,\nc1,C1,team,c3,\nc2,C2,team,c1,\nc3,C3,team,c2,\n"
        "leaf,Leaf,team,a,\n",
    )
    found = problems_of(vc, bundle)
    assert [(p.file, p.line, p.column) for p in found] == [
        ("units.csv", 14, "parent_id"),
        ("units.csv", 16, "parent_id"),
    ]
    assert "'a' → 'b' → 'a'" in found[0].found
    assert "'c1' → 'c3' → 'c2' → 'c1'" in found[1].found
    assert vc.counts().get("units", 0) == 0


def test_a_cycle_made_with_stored_units_is_refused(vc: Valuechain, tmp_path: Path) -> None:
    import_bundle(vc, SMALL)  # ops is the parent of pack
    bundle = tmp_path / "update"
    bundle.mkdir()
    # ops under pack closes ops → pack → ops with the stored row of pack.
    (bundle / "units.csv").write_text("id,name,kind,parent_id\nops,Operations,department,pack\n")
    (problem,) = problems_of(vc, bundle)
    assert (problem.file, problem.line, problem.column) == ("units.csv", 2, "parent_id")
    assert "'ops' → 'pack' → 'ops'" in problem.found
    # Moving pack out from under ops in the same bundle makes it no cycle.
    (bundle / "units.csv").write_text(
        "id,name,kind,parent_id\nops,Operations,department,pack\npack,Packing,team,\n"
    )
    import_bundle(vc, bundle)
    assert {u.id: u.parent_id for u in vc.read_map().units}["ops"] == "pack"


def test_duplicate_ids_link_triples_and_emails(vc: Valuechain, tmp_path: Path) -> None:
    bundle = copy_small(tmp_path)
    append(bundle / "units.csv", "pack,Packing again,team,,\n")
    append(bundle / "links.csv", "boxes,ship,consumes,7\n")
    append(bundle / "people.csv", "p06,Ana Again,ana.lima@example.org,ops,member\n")
    found = problems_of(vc, bundle)
    assert [(p.file, p.line, p.column) for p in found] == [
        ("units.csv", 14, "id"),
        ("links.csv", 12, "relation"),
        ("people.csv", 7, "email"),
    ]
    assert found[0].found == "'pack' again (first on line 6)"
    assert found[2].found == "'ana.lima@example.org' again (first on line 2)"


def test_bad_enum_and_bad_numbers(vc: Valuechain, tmp_path: Path) -> None:
    bundle = copy_small(tmp_path)
    append(bundle / "units.csv", "x1,X,tem,,-1\nx2,Y,team,,2.5\n")
    append(bundle / "results.csv", "x3,x2,Z,finished,-4,abc,inf\n")
    append(bundle / "links.csv", "x3,pack,pays,nan\n")
    found = problems_of(vc, bundle)
    assert [(p.file, p.line, p.column, p.found) for p in found] == [
        ("units.csv", 14, "kind", "'tem'"),
        ("units.csv", 14, "headcount", "'-1'"),
        ("units.csv", 15, "headcount", "'2.5'"),
        ("results.csv", 11, "capacity", "'-4'"),
        ("results.csv", 11, "cost_per_item", "'abc'"),
        ("results.csv", 11, "revenue_per_item", "'inf'"),
        ("links.csv", 12, "demand", "'nan'"),
    ]
    assert str(found[0]) == (
        "units.csv line 14, column kind: expected one of team, department, "
        "external_customer, external_supplier; found 'tem'"
    )


def test_empty_required_value(vc: Valuechain, tmp_path: Path) -> None:
    bundle = copy_small(tmp_path)
    append(bundle / "units.csv", "x1,,team,,\n")
    append(bundle / "people.csv", "p99,Zed,  ,pack,member\n")
    found = problems_of(vc, bundle)
    assert [(p.file, p.line, p.column, p.found) for p in found] == [
        ("units.csv", 14, "name", "an empty cell"),
        ("people.csv", 7, "email", "'  '"),
    ]


def test_unknown_and_missing_columns(vc: Valuechain, tmp_path: Path) -> None:
    bundle = copy_small(tmp_path)
    results = bundle / "results.csv"
    results.write_text(results.read_text().replace("revenue_per_item", "revenue"))
    people = bundle / "people.csv"
    people.write_text(people.read_text().replace(",role", ",rank"))
    found = problems_of(vc, bundle)
    assert [(p.file, p.line, p.column, p.found) for p in found] == [
        ("results.csv", 1, "revenue", "an unknown column"),
        ("people.csv", 1, "rank", "an unknown column"),
        ("people.csv", 1, "role", "no such column"),
    ]


def test_missing_required_column_does_not_cascade(vc: Valuechain, tmp_path: Path) -> None:
    bundle = copy_small(tmp_path)
    (bundle / "units.csv").write_text("id,name\nops,Operations\n")
    found = problems_of(vc, bundle)
    # The units cannot be read, so references to them are not reported as unknown.
    assert [(p.file, p.line, p.column) for p in found] == [("units.csv", 1, "kind")]


def test_unknown_files_are_refused_and_hidden_files_ignored(vc: Valuechain, tmp_path: Path) -> None:
    bundle = copy_small(tmp_path)
    (bundle / "notes.txt").write_text("hello\n")
    (bundle / "budget.csv").write_text("year,amount\n")
    (bundle / ".DS_Store").write_bytes(b"\0\1")
    found = problems_of(vc, bundle)
    assert [(p.file, p.line, p.column) for p in found] == [
        ("budget.csv", None, None),
        ("notes.txt", None, None),
    ]
    assert all(p.found == "an unknown file" for p in found)
    assert vc.counts()["units"] == 0


def test_missing_units_file(vc: Valuechain, tmp_path: Path) -> None:
    bundle = copy_small(tmp_path)
    (bundle / "units.csv").unlink()
    (bundle / "links.csv").unlink()
    (bundle / "people.csv").unlink()
    (bundle / "results.csv").unlink()
    found = problems_of(vc, bundle)
    assert [(p.file, p.line, p.column) for p in found] == [("units.csv", None, None)]


def test_line_numbers_count_physical_lines_and_skip_nothing(vc: Valuechain, tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    bundle.mkdir()
    (bundle / "units.csv").write_text(
        'id,name,kind\nu1,"two\nlines",team\n\nu2,Fine,team\nu3,Bad,nope\n', encoding="utf-8"
    )
    found = problems_of(vc, bundle)
    assert [(p.line, p.column) for p in found] == [(6, "kind")]


def test_not_utf8_and_bad_csv_are_problems(vc: Valuechain, tmp_path: Path) -> None:
    bundle = copy_small(tmp_path)
    append(bundle / "people.csv", "p98,Ok,ok@example.org,pack,member\n")
    with (bundle / "people.csv").open("ab") as out:
        out.write(b"p99,Caf\xe9,cafe@example.org,pack,member\n")
    (bundle / "links.csv").write_text('result_id,customer_id,relation\nboxes,"ship,pays\n')
    found = problems_of(vc, bundle)
    assert [(p.file, p.line, p.expected) for p in found] == [
        ("links.csv", 2, "well-formed CSV"),
        ("people.csv", 8, "UTF-8 text"),
    ]


def test_problems_are_capped_and_counted(vc: Valuechain, tmp_path: Path) -> None:
    bundle = copy_small(tmp_path)
    append(bundle / "links.csv", "".join(f"boxes,ghost{i},pays,\n" for i in range(250)))
    with pytest.raises(BundleError) as raised:
        import_bundle(vc, bundle)
    assert len(raised.value.problems) == 200 and raised.value.more_problems == 50
    assert str(raised.value).endswith("… and 50 more")
    assert str(raised.value).startswith("the bundle was not imported (250 problems):")


def test_xlsx_problems_name_sheet_and_row(vc: Valuechain, tmp_path: Path) -> None:
    book = Workbook()
    units = book.active
    assert units is not None
    units.title = "units"
    units.append(["id", "name", "kind", "headcount"])
    units.append(["u1", "One", "team", 3])
    units.append([None, None, None, None])
    units.append(["u2", "Two", "squad", 4.0])
    book.create_sheet("budget").append(["year", "amount"])
    path = tmp_path / "bundle.xlsx"
    book.save(path)
    found = problems_of(vc, path)
    assert [(p.file, p.line, p.column) for p in found] == [
        ("budget", None, None),
        ("units", 4, "kind"),
    ]
    assert found[0].found == "an unknown sheet"


def test_paths_that_are_no_bundle(vc: Valuechain, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "broken.xlsx").write_text("not a zip")
    for path, found in (
        (tmp_path / "missing", "nothing at that path"),
        (tmp_path / "notes.txt", "another kind of file"),
    ):
        assert problems_of(vc, path)[0].found == found
    assert problems_of(vc, tmp_path / "broken.xlsx")[0].expected == "a readable .xlsx workbook"


# -- update by id and replace ------------------------------------------------------


def test_second_import_updates_by_id_adds_and_removes_nothing(
    vc: Valuechain, tmp_path: Path
) -> None:
    import_bundle(vc, SMALL)
    bundle = tmp_path / "update"
    bundle.mkdir()
    (bundle / "units.csv").write_text(
        "id,name,kind,parent_id,headcount\npack,Packing & wrapping,team,ops,14\n"
        "wrap,Gift wrapping,team,pack,2\n"
    )
    # Links may name results and units that are only stored, not in this bundle.
    (bundle / "links.csv").write_text("result_id,customer_id,relation\nboxes,wrap,consumes\n")
    summary = import_bundle(vc, bundle)
    assert summary.updated["units"] == 1 and summary.rows["units"] == 2
    assert vc.counts() == {"units": 13, "results": 9, "links": 11, "people": 5}
    units = {u.id: u for u in vc.read_map().units}
    assert units["pack"].name == "Packing & wrapping" and units["pack"].headcount == 14
    assert units["ship"].name == "Shipping"  # untouched


def test_replace_keeps_only_the_bundle(vc: Valuechain, tmp_path: Path) -> None:
    import_bundle(vc, SMALL)
    bundle = tmp_path / "replace"
    bundle.mkdir()
    (bundle / "units.csv").write_text("id,name,kind\nsolo,Solo,team\n")
    summary = import_bundle(vc, bundle, replace=True)
    assert summary.replaced_organisation
    assert vc.counts() == {"units": 1, "results": 0, "links": 0, "people": 0}


def test_replace_does_not_let_the_bundle_refer_to_stored_ids(
    vc: Valuechain, tmp_path: Path
) -> None:
    import_bundle(vc, SMALL)
    bundle = tmp_path / "replace"
    bundle.mkdir()
    (bundle / "units.csv").write_text("id,name,kind,parent_id\nsolo,Solo,team,ops\n")
    assert import_bundle(vc, bundle).rows["units"] == 1  # by id: ops is stored
    found = problems_of(vc, bundle, replace=True)
    assert [(p.line, p.column, p.expected) for p in found] == [
        (2, "parent_id", "the id of a unit in units.csv")
    ]
    assert vc.counts()["units"] == 13


def test_email_of_a_stored_person_is_taken(vc: Valuechain, tmp_path: Path) -> None:
    import_bundle(vc, SMALL)
    bundle = tmp_path / "people"
    bundle.mkdir()
    (bundle / "units.csv").write_text("id,name,kind\n")
    (bundle / "people.csv").write_text(
        "id,name,email,unit_id,role\np77,Impostor,ana.lima@example.org,pack,member\n"
    )
    found = problems_of(vc, bundle)
    assert [(p.file, p.line, p.column) for p in found] == [("people.csv", 2, "email")]
    # Giving the stored owner a new email in the same bundle frees the old one.
    append(bundle / "people.csv", "p01,Ana Lima,ana@example.org,ops,admin\n")
    import_bundle(vc, bundle)
    emails = {p.id: p.email for p in vc.read_map().people}
    assert emails["p77"] == "ana.lima@example.org" and emails["p01"] == "ana@example.org"


def test_export_refuses_a_file_in_place_of_a_folder(vc: Valuechain, tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")
    with pytest.raises(Exception, match="is a file") as raised:
        export_bundle(vc, tmp_path / "taken")
    assert type(raised.value).__name__ == "ValuechainError"


def test_a_nul_character_in_a_csv_file_is_a_located_problem(vc: Valuechain, tmp_path: Path) -> None:
    """PostgreSQL refuses NUL in text; the import says where instead of crashing."""
    bundle = copy_small(tmp_path)
    append(bundle / "units.csv", 'x1,"a\x00b",team,,\n')
    (problem,) = problems_of(vc, bundle)
    assert (problem.file, problem.line) == ("units.csv", 14)
    assert problem.found == "a NUL character"
    responses = Path(__file__).resolve().parents[1] / "examples" / "measure" / "responses.csv"
    text = responses.read_text(encoding="utf-8").splitlines()
    text[2] = text[2] + "\x00"
    (bundle / "units.csv").write_bytes((SMALL / "units.csv").read_bytes())
    (bundle / "responses.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    (bundle / "items.csv").write_bytes((responses.parent / "items.csv").read_bytes())
    (problem,) = problems_of(vc, bundle)
    assert (problem.file, problem.line) == ("responses.csv", 3)
    assert vc.counts().get("units", 0) == 0
