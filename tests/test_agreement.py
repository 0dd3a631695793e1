"""The agreement's life on both databases: draft -> proposed -> agreed by both leads
-> under review -> agreed again; refused steps change nothing; reviews due show on
both sides; the audit log records each step; the command line drives it."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from valuechain import Valuechain
from valuechain.cli.main import app
from valuechain.domain.agreement import AgreementState
from valuechain.services import agreement as service
from valuechain.services.audit import Actor, read_page
from valuechain.services.bundle import import_bundle
from valuechain.services.errors import NotFound

ROOT = Path(__file__).resolve().parents[1]
PROVIDER_LEAD = Actor("a1", "lea@example.org", "test")
CUSTOMER_LEAD = Actor("a2", "bram@example.org", "test")


def load(vc: Valuechain, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(ROOT / "examples" / "bundle", bundle)
    for name in ("calendars.csv", "agreements.csv", "commitments.csv"):
        shutil.copy(ROOT / "examples" / "agree" / name, bundle / name)
    import_bundle(vc, bundle)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_draft_is_agreed_only_when_both_leads_agree(vc: Valuechain, tmp_path: Path) -> None:
    load(vc, tmp_path)
    assert ("qa", "pack") not in service.terms(vc)
    assert service.propose(vc, "qa-pack", "pack", CUSTOMER_LEAD).state is AgreementState.PROPOSED
    at = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    first = service.agree(vc, "qa-pack", "qa", PROVIDER_LEAD, at=at)
    assert first.state is AgreementState.PROPOSED
    assert (first.provider_agreed_by, first.provider_agreed_at) == ("lea@example.org", at)
    assert first.customer_agreed_at is None
    assert ("qa", "pack") not in service.terms(vc)
    done = service.agree(vc, "qa-pack", "pack", CUSTOMER_LEAD, at=at)
    assert done.state is AgreementState.AGREED
    stored = service.agreement(vc, "qa-pack")
    assert stored.state is AgreementState.AGREED
    assert stored.customer_agreed_by == "bram@example.org" and stored.customer_agreed_at == at
    assert service.terms(vc)[("qa", "pack")].quality_pct == 98.0
    steps = [
        (e.action, e.actor, e.detail)
        for e in read_page(vc, per_page=20).events
        if e.subject == "agreement qa-pack"
    ]
    assert sorted(steps) == sorted(
        [
            ("agreement_proposed", "bram@example.org", "customer side (pack); now proposed"),
            ("agreement_agreed", "lea@example.org", "provider side (qa); now proposed"),
            ("agreement_agreed", "bram@example.org", "customer side (pack); now agreed"),
        ]
    )


def test_review_keeps_terms_in_force_until_agreed_again(vc: Valuechain, tmp_path: Path) -> None:
    load(vc, tmp_path)
    reviewed = service.review(vc, "plan-pack", "pack", CUSTOMER_LEAD)
    assert reviewed.state is AgreementState.UNDER_REVIEW
    assert reviewed.provider_agreed_at is None and reviewed.customer_agreed_at is None
    assert service.terms(vc)[("plan", "pack")].on_time_pct == 95.0
    # Reviews due show up on both sides.
    today = date(2026, 11, 23)
    assert [a.id for a in service.reviews_due(vc, "plan", today)] == ["plan-pack"]
    assert [a.id for a in service.reviews_due(vc, "pack", today)] == ["plan-pack"]
    service.agree(vc, "plan-pack", "plan", PROVIDER_LEAD)
    again = service.agree(vc, "plan-pack", "pack", CUSTOMER_LEAD)
    assert again.state is AgreementState.AGREED
    assert service.reviews_due(vc, "pack", today) == []


def test_reviews_start_when_their_date_comes(vc: Valuechain, tmp_path: Path) -> None:
    load(vc, tmp_path)
    # pack-ship is reviewed on 2026-12-01, plan-pack on 2027-03-01.
    assert service.start_due_reviews(vc, date(2026, 11, 30)) == []
    assert [a.id for a in service.reviews_due(vc, "ship", date(2026, 12, 1))] == ["pack-ship"]
    assert service.start_due_reviews(vc, date(2026, 12, 1)) == ["pack-ship"]
    assert service.start_due_reviews(vc, date(2026, 12, 2)) == []  # idempotent
    assert service.agreement(vc, "pack-ship").state is AgreementState.UNDER_REVIEW


@pytest.mark.parametrize(
    ("step", "agreement_id", "unit", "message"),
    [
        ("agree", "qa-pack", "qa", "only a proposed agreement or one under review"),
        ("review", "qa-pack", "qa", "only an agreed agreement can be reviewed"),
        ("propose", "plan-pack", "plan", "only a draft or an agreement under review"),
    ],
)
def test_refused_steps_change_nothing(
    vc: Valuechain, tmp_path: Path, step: str, agreement_id: str, unit: str, message: str
) -> None:
    load(vc, tmp_path)
    before = service.agreement(vc, agreement_id)
    with pytest.raises(service.AgreementStepRefused, match=message):
        getattr(service, step)(vc, agreement_id, unit, PROVIDER_LEAD)
    assert service.agreement(vc, agreement_id) == before


def test_only_the_two_sides_act_and_see(vc: Valuechain, tmp_path: Path) -> None:
    load(vc, tmp_path)
    with pytest.raises(NotFound, match="no side of agreement"):
        service.propose(vc, "qa-pack", "ship", PROVIDER_LEAD)
    with pytest.raises(NotFound):
        service.agreement(vc, "qa-pack", "ship")
    with pytest.raises(NotFound):
        service.agreement(vc, "nope")
    assert [a.id for a in service.agreements_of(vc, "pack")] == [
        "pack-ship",
        "plan-pack",
        "qa-pack",
    ]
    assert [a.id for a in service.agreements_of(vc, "qa")] == ["qa-pack"]


def test_command_line(vc: Valuechain, cli_env: dict[str, str], tmp_path: Path) -> None:
    load(vc, tmp_path)
    code, out, _ = run("agreement", "list", "--json")
    assert code == 0
    listed = json.loads(out)["agreements"]
    assert [(a["id"], a["provider"], a["customer"], a["state"]) for a in listed] == [
        ("pack-ship", "pack", "ship", "agreed"),
        ("plan-pack", "plan", "pack", "agreed"),
        ("qa-pack", "qa", "pack", "draft"),
    ]
    assert listed[1]["obligations"] == [
        "Order intake by Thursday 12:00",
        "Machine downtime announced a week ahead",
    ]
    code, out, _ = run("agreement", "list", "--unit", "qa")
    assert code == 0 and "qa-pack" in out and "plan-pack" not in out
    assert run("agreement", "propose", "qa-pack", "--unit", "qa")[0] == 0
    code, out, _ = run("agreement", "agree", "qa-pack", "--unit", "qa")
    assert code == 0 and "now proposed" in out
    code, out, _ = run("agreement", "agree", "qa-pack", "--unit", "pack")
    assert code == 0 and "now agreed" in out
    assert service.agreement(vc, "qa-pack").customer_agreed_by is not None
    code, out, _ = run("agreement", "review", "qa-pack", "--unit", "pack")
    assert code == 0 and "now under_review" in out
    refused = CliRunner().invoke(app, ["agreement", "agree", "qa-pack", "--unit", "ship"])
    assert isinstance(refused.exception, NotFound)  # main() prints it as a message, exit 2
    code, out, _ = run("agreement", "show", "plan-pack", "--json")
    shown = json.loads(out)
    assert shown["targets"] == {"on_time_pct": 95.0, "response_hours": 4.0}
    assert shown["actual"] == {"on_time_pct": 50.0}  # kept + exceeded of 4 ended
    assert [c["outcome"] for c in shown["commitments"]] == ["missed", "warned", "exceeded", "kept"]
    code, out, _ = run("agreement", "show", "plan-pack")
    assert code == 0 and "Order intake by Thursday 12:00" in out


def test_a_lead_drafts_an_agreement_then_both_sides_agree(demo_vc: Valuechain) -> None:
    from valuechain.domain.agreement import Metric
    from valuechain.services import agreement as agreements
    from valuechain.services.agreement import AgreementStepRefused
    from valuechain.services.audit import Actor

    vc = demo_vc
    lead = Actor(None, "test lead", None)
    made = agreements.draft(
        vc, "quality-assurance", lead, result_id="inspection-release", customer_id="packing",
        targets={Metric.ON_TIME_PCT: 96}, obligations=("Samples by 10:00", " "),
    )  # fmt: skip
    assert made.state.value == "draft" and made.obligations == ("Samples by 10:00",)
    assert made.id.startswith("inspection-release-packing-")
    agreements.propose(vc, made.id, "quality-assurance", lead)
    agreements.agree(vc, made.id, "quality-assurance", lead)
    assert agreements.agree(vc, made.id, "packing", lead).state.value == "agreed"
    with pytest.raises(AgreementStepRefused, match="neither the provider"):
        agreements.draft(vc, "payroll", lead, result_id="inspection-release",
                         customer_id="packing", targets={Metric.ON_TIME_PCT: 90})  # fmt: skip
    with pytest.raises(AgreementStepRefused, match="percentage"):
        agreements.draft(vc, "quality-assurance", lead, result_id="inspection-release",
                         customer_id="packing", targets={Metric.QUALITY_PCT: 140})  # fmt: skip
    with pytest.raises(AgreementStepRefused, match="at least one target"):
        agreements.draft(vc, "quality-assurance", lead, result_id="inspection-release",
                         customer_id="packing", targets={})  # fmt: skip
