"""Calendars, agreements and commitments in the data bundle and the store, on both
databases: import, export round trips (CSV and XLSX), update by id, replace, located
problems, and the terms the request clocks use."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from valuechain import Valuechain
from valuechain.domain.agreement import AgreementState, Metric
from valuechain.domain.bundle import BundleProblem
from valuechain.domain.calendar import DEFAULT
from valuechain.services.agreement import terms
from valuechain.services.bundle import BundleError, export_bundle, import_bundle
from valuechain.store import agreement as agreement_store
from valuechain.store import calendar as calendar_store
from valuechain.store import commitment as commitment_store

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "examples" / "bundle"
AGREE = ROOT / "examples" / "agree"
CET = timezone(timedelta(hours=1))


def agree_bundle(tmp_path: Path) -> Path:
    """A writable bundle: the example map plus the example agreements."""
    target = tmp_path / "bundle"
    shutil.copytree(SMALL, target)
    for name in ("calendars.csv", "agreements.csv", "commitments.csv"):
        shutil.copy(AGREE / name, target / name)
    return target


def problems_of(vc: Valuechain, bundle: Path) -> list[BundleProblem]:
    with pytest.raises(BundleError) as raised:
        import_bundle(vc, bundle)
    return raised.value.problems


def stored(vc: Valuechain) -> tuple[object, ...]:
    with vc.engine.connect() as conn:
        return (
            calendar_store.read_calendars(conn, vc.org_id),
            agreement_store.read_agreements(conn, vc.org_id),
            commitment_store.read_commitments(conn, vc.org_id),
        )


def test_import_stores_calendars_agreements_and_commitments(vc: Valuechain, tmp_path: Path) -> None:
    summary = import_bundle(vc, agree_bundle(tmp_path))
    assert summary.rows["calendars"] == 2
    assert summary.rows["agreements"] == 5  # rows: one per metric
    assert summary.rows["commitments"] == 5
    calendars, agreements, commitments = stored(vc)
    assert [c.name for c in calendars] == ["nl-office", "warehouse"]  # type: ignore[attr-defined]
    by_id = {a.id: a for a in agreements}  # type: ignore[attr-defined]
    assert sorted(by_id) == ["pack-ship", "plan-pack", "qa-pack"]
    plan = by_id["plan-pack"]
    assert plan.provider_id == "plan" and plan.customer_id == "pack"
    assert plan.targets == {Metric.ON_TIME_PCT: 95.0, Metric.RESPONSE_HOURS: 4.0}
    assert plan.calendar == "nl-office" and plan.review_on == date(2027, 3, 1)
    assert plan.channel == "Teams #planning" and plan.cadence == "weekly stand-up"
    assert plan.state is AgreementState.AGREED
    assert plan.obligations == (
        "Order intake by Thursday 12:00",
        "Machine downtime announced a week ahead",
    )
    assert plan.exceed_margin_hours == 24.0
    assert plan.deliverable_rrule == "FREQ=WEEKLY;BYDAY=MO;BYHOUR=10;BYMINUTE=0"
    assert by_id["pack-ship"].targets == {
        Metric.RESPONSE_HOURS: 2.0,
        Metric.RESOLUTION_HOURS: 16.0,
    }
    assert by_id["qa-pack"].state is AgreementState.DRAFT and by_id["qa-pack"].calendar is None
    first = commitments[0]  # type: ignore[index]
    assert first.agreement_id == "pack-ship"
    assert first.due_at == datetime(2026, 11, 20, 15, tzinfo=UTC)
    warned = [c for c in commitments if c.warned_at is not None]  # type: ignore[attr-defined]
    assert [c.due_at for c in warned] == [datetime(2026, 11, 16, 10, tzinfo=CET)]
    assert warned[0].warned_at == datetime(2026, 11, 13, 11, tzinfo=CET)
    assert warned[0].due_at.tzinfo is UTC


def test_terms_per_provider_and_customer(vc: Valuechain, tmp_path: Path) -> None:
    import_bundle(vc, agree_bundle(tmp_path))
    found = terms(vc)
    # qa-pack is only a draft: no terms for (qa, pack) yet.
    assert sorted(found) == [("pack", "ship"), ("plan", "pack")]
    plan = found[("plan", "pack")]
    assert plan.agreement_id == "plan-pack"
    assert plan.calendar.name == "nl-office" and plan.calendar.timezone == "Europe/Amsterdam"
    assert date(2026, 12, 24) in plan.calendar.holidays and plan.calendar.countries == ("NL",)
    assert len(plan.calendar.hours[0]) == 2  # the split shift on Monday
    assert (plan.response_hours, plan.resolution_hours) == (4.0, None)
    assert (plan.on_time_pct, plan.quality_pct) == (95.0, None)
    ship = found[("pack", "ship")]
    assert (ship.response_hours, ship.resolution_hours) == (2.0, 16.0)
    assert ship.calendar.hours[5] != ()  # Saturday in the warehouse


def test_an_agreement_without_calendar_uses_the_default(vc: Valuechain, tmp_path: Path) -> None:
    bundle = agree_bundle(tmp_path)
    (bundle / "agreements.csv").write_text(
        "id,result_id,customer_id,metric,target\nx,boxes,ship,response_hours,8\n"
    )
    (bundle / "commitments.csv").unlink()
    import_bundle(vc, bundle)
    found = terms(vc)
    assert found[("pack", "ship")].calendar is DEFAULT
    assert found[("pack", "ship")].response_hours == 8.0


def test_several_agreements_of_one_pair_give_the_smallest_ids_terms(
    vc: Valuechain, tmp_path: Path
) -> None:
    bundle = agree_bundle(tmp_path)
    with (bundle / "agreements.csv").open("a") as out:
        out.write("a-first,scrap,ship,response_hours,1,,,,,agreed,,,\n")
    import_bundle(vc, bundle)
    assert terms(vc)[("pack", "ship")].agreement_id == "a-first"


def test_export_round_trips_through_csv_and_xlsx(vc: Valuechain, tmp_path: Path) -> None:
    import_bundle(vc, agree_bundle(tmp_path))
    for target in (tmp_path / "out", tmp_path / "out.xlsx"):
        counts = export_bundle(vc, target)
        assert (counts["calendars"], counts["agreements"], counts["commitments"]) == (2, 5, 5)
        again = Valuechain(vc.engine, f"{vc.organisation}-{target.suffix or 'csv'}", create=True)
        import_bundle(again, target)
        assert stored(again) == stored(vc)


def test_export_without_agreements_writes_no_agree_files(vc: Valuechain, tmp_path: Path) -> None:
    import_bundle(vc, SMALL)
    counts = export_bundle(vc, tmp_path / "out")
    assert "agreements" not in counts
    assert not (tmp_path / "out" / "agreements.csv").exists()


def test_update_by_id_and_references_to_stored_rows(vc: Valuechain, tmp_path: Path) -> None:
    import_bundle(vc, agree_bundle(tmp_path))
    later = tmp_path / "later"
    later.mkdir()
    (later / "units.csv").write_text("id,name,kind\n")
    # A stored calendar and a stored agreement may be named without listing them.
    (later / "agreements.csv").write_text(
        "id,result_id,customer_id,metric,target,calendar,state\n"
        "pack-ship,boxes,ship,response_hours,3,nl-office,under_review\n"
    )
    (later / "commitments.csv").write_text(
        "agreement_id,due_at,delivered_at\n"
        "plan-pack,2026-11-30T10:00:00+01:00,\n"
        "pack-ship,2026-11-20T15:00:00Z,2026-11-20T16:00:00Z\n"
    )
    summary = import_bundle(vc, later)
    assert summary.rows["agreements"] == 1
    _, agreements, commitments = stored(vc)
    ship = next(a for a in agreements if a.id == "pack-ship")  # type: ignore[attr-defined]
    # The row replaces the whole agreement: its resolution target is gone.
    assert ship.targets == {Metric.RESPONSE_HOURS: 3.0}
    assert ship.calendar == "nl-office" and ship.state is AgreementState.UNDER_REVIEW
    assert len(commitments) == 6  # type: ignore[arg-type]
    replaced = next(c for c in commitments if c.agreement_id == "pack-ship")  # type: ignore[attr-defined]
    assert replaced.delivered_at == datetime(2026, 11, 20, 16, tzinfo=UTC)
    # Under review the agreed terms stay in force.
    assert terms(vc)[("pack", "ship")].response_hours == 3.0


def test_replace_removes_the_agreements(vc: Valuechain, tmp_path: Path) -> None:
    import_bundle(vc, agree_bundle(tmp_path))
    import_bundle(vc, SMALL, replace=True)
    assert stored(vc) == ([], [], [])
    assert terms(vc) == {}


def test_problems_are_located(vc: Valuechain, tmp_path: Path) -> None:
    bundle = agree_bundle(tmp_path)
    (bundle / "calendars.csv").write_text(
        "name,timezone,hours,holidays\n"
        "ok,UTC,mon-fri 09:00-17:00,\n"
        "ok,UTC,mon-fri 09:00-17:00,\n"
        "zone,Mars/Olympus,mon-fri 09:00-17:00,\n"
        "hours,UTC,someday 09:00-17:00,\n"
        "holidays,UTC,mon-fri 09:00-17:00,XX 2026-13-01\n"
    )
    (bundle / "agreements.csv").write_text(
        "id,result_id,customer_id,metric,target,calendar,review_on,deliverable_rrule\n"
        "a,boxes,ship,on_time_pct,101,ok,,\n"
        "b,boxes,pack,response_hours,2,,,\n"
        "c,boxes,ship,response_hours,2,nowhere,2026-02-30,\n"
        "d,boxes,ship,response_hours,2,,,EVERY MONDAY\n"
        "e,boxes,ship,response_hours,2,ok,,\n"
        "e,boxes,qa,resolution_hours,8,,,\n"
        "f,boxes,ship,speed,2,,,\n"
        "g,boxes,ship,response_hours,2,,,\n"
        "g,boxes,ship,response_hours,3,,,\n"
    )
    (bundle / "commitments.csv").write_text(
        "agreement_id,due_at,delivered_at,warned_at\n"
        "nobody,2026-11-20T15:00:00Z,,\n"
        "g,tomorrow,,\n"
        "g,2026-11-20T15:00:00Z,,\n"
        "g,2026-11-20T16:00:00+01:00,,\n"
    )
    found = [(p.file, p.line, p.column) for p in problems_of(vc, bundle)]
    assert found == [
        ("calendars.csv", 3, "name"),
        ("calendars.csv", 4, "timezone"),
        ("calendars.csv", 5, "hours"),
        ("calendars.csv", 6, "holidays"),
        ("agreements.csv", 2, "target"),
        ("agreements.csv", 3, "customer_id"),
        ("agreements.csv", 4, "calendar"),
        ("agreements.csv", 4, "review_on"),
        ("agreements.csv", 5, "deliverable_rrule"),
        ("agreements.csv", 7, None),
        ("agreements.csv", 8, "metric"),
        ("agreements.csv", 10, "metric"),
        ("commitments.csv", 2, "agreement_id"),
        ("commitments.csv", 3, "due_at"),
        ("commitments.csv", 5, "due_at"),
    ]
    assert stored(vc) == ([], [], [])
    messages = [str(p) for p in problems_of(vc, bundle)]
    assert any("a unit other than the result's producer; found 'pack'" in m for m in messages)
    assert any("each metric once in agreement 'g'" in m for m in messages)
    assert any("a percentage from 0 to 100; found 101" in m for m in messages)
    assert any("the name of a calendar in calendars.csv or already stored" in m for m in messages)
