"""The unit page shows a unit as the hero its suppliers help succeed and the sidekick
of its customers (issue 20 item 2): "Who helps you succeed" beside "Whom you help
succeed", each relationship with its survey score and health where the viewer may see
them, and "not shown to your role" where not (docs/map.md)."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient

from tests.signin import make_account, sign_in
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.services.partner import health
from valuechain.services.report import report
from valuechain.web.app import create_app

UNIT = "assembly"
MEMBER_OF_ASSEMBLY = "person-021"
# Findings about how a provider serves its customers: their next step asks what the
# customer needs to succeed, not what the provider did.
CUSTOMER_KINDS = {
    "decline",
    "rise",
    "gap",
    "driver",
    "action_worked",
    "action_failed",
    "watermelon",
}


def _section(html: str, heading_id: str) -> str:
    """The HTML of the section labelled by ``heading_id``."""
    found = re.search(rf'<section aria-labelledby="{heading_id}".*?</section>', html, re.S)
    assert found, f"no section {heading_id}"
    return found.group(0)


def _page(vc: Valuechain, role: AccountRole, person: str | None, unit: str = UNIT) -> str:
    email = f"hero-{uuid.uuid4().hex[:8]}@example.org"
    make_account(vc, email, role, person_id=person)
    with TestClient(create_app(vc)) as client:
        sign_in(client, email)
        answer = client.get(f"/units/{unit}")
    assert answer.status_code == 200, answer.text
    return answer.text


def test_an_admin_sees_both_roles_with_names_and_scores(demo_vc: Valuechain) -> None:
    html = _page(demo_vc, AccountRole.ADMIN, None)
    rows = {(r["provider"], r["customer"]): r for r in health.health_table(demo_vc)}
    helped_by = _section(html, "helped-by-heading")
    assert "Who helps you succeed" in helped_by
    # Payroll, the IT service desk and production planning serve assembly; assembly
    # rates them in the demo's surveys.
    for supplier, name in [("payroll", "Payroll"), ("it-service-desk", "IT service desk")]:
        assert name in helped_by
        score = rows[(supplier, UNIT)]["customer_view"]
        assert score is not None
        assert f'data-score="{score}"' in helped_by
    helps = _section(html, "helps-heading")
    assert "Whom you help succeed" in helps and "Packing" in helps
    assert "data-health=" in helped_by + helps
    assert "not shown to your role" not in helped_by + helps
    # Both sections come before the direct customers' table.
    assert html.index("helped-by-heading") < html.index('id="direct-heading"')


def test_an_external_supplier_is_not_measured(demo_vc: Valuechain) -> None:
    # The steel mill is an external supplier: no survey rates it, for any role.
    html = _page(demo_vc, AccountRole.ADMIN, None, "inbound-logistics")
    row = re.search(r"<tr><th scope=\"row\"><a href=\"/units/steel-mill\">.*?</tr>", html, re.S)
    assert row, "the steel mill is not among who helps inbound logistics succeed"
    assert "not measured" in row.group(0) and "not shown to your role" not in row.group(0)


def test_a_member_sees_the_names_but_not_the_numbers(demo_vc: Valuechain) -> None:
    html = _page(demo_vc, AccountRole.MEMBER, MEMBER_OF_ASSEMBLY)
    helped_by = _section(html, "helped-by-heading")
    helps = _section(html, "helps-heading")
    assert "Payroll" in helped_by and "Packing" in helps
    assert "not shown to your role" in helped_by and "not shown to your role" in helps
    assert "data-score=" not in helped_by + helps
    assert "data-health=" not in helped_by + helps


def test_the_report_next_steps_speak_of_what_the_customer_needs_to_succeed(
    demo_vc: Valuechain,
) -> None:
    found = report(demo_vc, all_findings=True).findings
    about_customers = [f for f in found if f.candidate.kind.value in CUSTOMER_KINDS]
    assert about_customers, [f.candidate.kind for f in found]
    for finding in about_customers:
        step = finding.candidate.next_step
        assert "need" in step and "succeed" in step, step
