"""The periodic jobs that remind people: survey reminders for open campaigns and the
"regroup" reminders for overdue actions (run directly, as a worker would)."""

from __future__ import annotations

from datetime import date

from valuechain import Valuechain
from valuechain.jobs.tasks import PERIODIC, regroup_reminders, survey_reminders
from valuechain.services import campaign, notification
from valuechain.services.partner import action


def test_the_reminder_jobs_are_registered() -> None:
    assert {"survey_reminders", "regroup_reminders", "drain_outbox"} <= PERIODIC.keys()


def test_survey_reminders_reach_only_those_who_have_not_answered(
    demo_vc: Valuechain,
    smtp_server,  # type: ignore[no-untyped-def]
) -> None:
    vc = demo_vc
    campaign.create_campaign(
        vc, "pulse-q4", instrument="pulse", relationships=[("payroll", "accounting")]
    )
    invited = campaign.invite(vc, "pulse-q4")
    assert invited > 0
    first = len(smtp_server.messages)
    assert survey_reminders(vc.engine) >= invited  # every organisation's open campaigns
    reminders = smtp_server.messages[first:]
    assert len(reminders) >= invited
    assert all("/s/" in m.get_content() for _, m in reminders)


def test_overdue_actions_remind_the_leads_of_both_sides(demo_vc: Valuechain) -> None:
    vc = demo_vc
    made = action.create(
        vc, None, "payroll", "assembly", title="Named contact per shift", owner="Pat",
        due_on=date(2026, 1, 5), instrument="service_factors", dimension="courtesy",
    )  # fmt: skip
    assert made["overdue"]
    before = notification.outbox(vc).counts.get("pending", 0)
    queued = regroup_reminders(vc.engine)
    assert queued >= 2  # at least one lead on each side
    rows = [r for r in notification.outbox(vc).rows if r.kind == "action_overdue"]
    assert len(rows) == queued and notification.outbox(vc).counts["pending"] > before
    assert any("Named contact per shift" in r.subject for r in rows)
    action.set_status(vc, "payroll", "assembly", made["id"], "done")
    assert action.send_regroup_reminders(vc) == 0


def test_monthly_reports_go_to_each_role_what_it_may_see(demo_vc: Valuechain) -> None:
    from tests.signin import make_account
    from valuechain.domain.account import AccountRole
    from valuechain.jobs.tasks import monthly_reports
    from valuechain.services import audit

    vc = demo_vc
    leads = {p.unit_id: p for p in vc.read_map().people if p.role.value == "lead"}
    admin = next(p for p in vc.read_map().people if p.role.value == "admin")
    make_account(vc, admin.email, AccountRole.ADMIN, person_id=admin.id)
    make_account(vc, "pp@example.org", AccountRole.LEAD, person_id=leads["payroll"].id)
    # The job covers every organisation in the database (others' tests share it on
    # PostgreSQL); this organisation's part is two reports.
    assert monthly_reports(vc.engine) >= 2
    rows = [r for r in notification.outbox(vc).rows if r.kind == "report"]
    subjects = sorted(r.subject for r in rows)
    assert subjects == ["Payroll: what your customers tell you", "The value chain this month"]
    lead_row = next(r for r in rows if r.subject.startswith("Payroll"))
    assert lead_row.person_id == leads["payroll"].id
    events = [e for e in audit.read_page(vc).events if e.action == "report_delivered"]
    assert len(events) == 2 and len(rows) == 2


def test_a_breached_request_alerts_the_providers_leads_once(demo_vc: Valuechain) -> None:
    from datetime import UTC, datetime, timedelta

    from valuechain.jobs.tasks import sla_alerts
    from valuechain.services import alert
    from valuechain.services import request as request_service

    vc = demo_vc
    opened = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # a Monday, in business hours
    made = request_service.new_request(
        vc,
        request_service.Asker(None, "cli:test"),
        customer="assembly",
        provider="it-service-desk",
        title="Line terminal 4 is down",
        now=opened,
    )
    later = opened + timedelta(days=3)
    first = alert.sla_alerts(vc, later)
    assert first >= 1
    rows = [r for r in notification.outbox(vc).rows if made["id"] in r.subject]
    assert rows and all(r.kind == "sla_breach" for r in rows)
    assert alert.sla_alerts(vc, later) == 0  # each alert once
    assert sla_alerts(vc.engine) >= 0  # the periodic job runs over every organisation
