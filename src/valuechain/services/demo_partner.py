"""The demo organisation's Partner & Improve story: two relationship workspaces and
two actions taken after the 2026-Q1 campaign, one of which worked (the IT service
desk's promptness rose in Q2) and one which did not (payroll's courtesy held)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from valuechain.services.organisation import Valuechain
from valuechain.services.transaction import writing
from valuechain.store import partner as store

WRITTEN = datetime(2026, 4, 7, 9, 0, tzinfo=UTC)

# (id, provider, customer, side, kind, text, alignment, counterpart)
ENTRIES: tuple[tuple[str, str, str, str, str, str, str | None, str | None], ...] = (
    ("ws-pp-1", "production-planning", "assembly", "provider", "challenge",
     "Assembly reports its finished orders a day late, so Monday's plan starts from old numbers.",
     None, None),
    ("ws-pp-2", "production-planning", "assembly", "provider", "need",
     "Confirmed completions by Friday 14:00 each week.", "aligned", "ws-pp-4"),
    ("ws-pp-3", "production-planning", "assembly", "customer", "challenge",
     "The weekly plan changes mid-week, and our crews are reshuffled twice.",
     "conflict", "ws-pp-5"),
    ("ws-pp-4", "production-planning", "assembly", "customer", "value",
     "We want to ship every order on the date we promised the installer.", None, None),
    ("ws-pp-5", "production-planning", "assembly", "provider", "value",
     "Rush orders from sales must reach the line within a day.", None, None),
    ("ws-it-1", "it-service-desk", "assembly", "customer", "need",
     "A first answer within two working hours when a line terminal fails.", "aligned",
     "ws-it-2"),
    ("ws-it-2", "it-service-desk", "assembly", "provider", "challenge",
     "Tickets arrive by phone without the terminal number; we call back to ask.", None, None),
)  # fmt: skip

# (id, provider, customer, title, owner, due, status, instrument, dimension, source)
ACTIONS: tuple[tuple[str, str, str, str, str, date, str, str, str, str], ...] = (
    ("act-it-prompt", "it-service-desk", "assembly",
     "Answer line-terminal tickets within two working hours; a terminal-number field on the form",
     "IT service desk lead", date(2026, 5, 15), "done", "service_factors", "promptness",
     "2026-q1: promptness was the desk's lowest dimension"),
    ("act-pay-courtesy", "payroll", "assembly",
     "Friendlier payslip queries: a named contact per shift instead of the shared inbox",
     "Payroll lead", date(2026, 5, 1), "done", "service_factors", "courtesy",
     "2026-q1: assembly asked for a person, not a mailbox"),
)  # fmt: skip


def ensure_demo_partner(vc: Valuechain) -> None:
    """Write the demo's workspace entries and actions (ids fixed: idempotent)."""
    with writing(vc) as conn:
        if store.entries(conn, vc.org_id) or store.actions(conn, vc.org_id):
            return
        for eid, provider, customer, side, kind, text, alignment, counterpart in ENTRIES:
            store.insert_entry(
                conn,
                vc.org_id,
                {
                    "id": eid, "provider_id": provider, "customer_id": customer, "side": side,
                    "kind": kind, "text": text, "alignment": alignment,
                    "counterpart_id": counterpart, "author_account_id": None,
                    "created_at": WRITTEN,
                },
            )  # fmt: skip
        for aid, provider, customer, title, owner, due, status, inst, dim, source in ACTIONS:
            store.insert_action(
                conn,
                vc.org_id,
                {
                    "id": aid, "provider_id": provider, "customer_id": customer,
                    "title": title, "owner": owner, "due_on": due, "status": status,
                    "metric_instrument": inst, "metric_dimension": dim,
                    "metric_rated_id": provider, "baseline_campaign": "2026-q1",
                    "source": source, "author_account_id": None,
                    "created_at": WRITTEN, "updated_at": WRITTEN,
                },
            )  # fmt: skip
