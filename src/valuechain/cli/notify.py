"""`valuechain notify ...`: who receives which notifications, the webhooks, the
outbox, and sending now without a worker."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

import typer

from valuechain.cli.app import app, console, open_valuechain, print_json
from valuechain.cli.tables import Table
from valuechain.domain.notification import KINDS, Preference, Status

if TYPE_CHECKING:
    from valuechain.services import notification


notify_app = typer.Typer(
    help="Notifications: preferences, webhooks, the outbox.", no_args_is_help=True
)
app.add_typer(notify_app, name="notify")

AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


@notify_app.command("preferences")
def preferences(
    person: Annotated[str, typer.Argument(help="The person's id (people.csv).")],
    kind: Annotated[
        list[str] | None,
        typer.Option("--kind", help="The kind to change (repeat it; default: every kind)."),
    ] = None,
    email: Annotated[
        bool | None, typer.Option("--email/--no-email", help="Receive these by email.")
    ] = None,
    webhook: Annotated[
        bool | None,
        typer.Option("--webhook/--no-webhook", help="Receive these through the webhook."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Show a person's choices per kind; with --email/--no-email or
    --webhook/--no-webhook, change them first (for --kind, or every kind)."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import notification

    vc = open_valuechain()
    if email is not None or webhook is not None:
        current = {p.kind: p for p in notification.preferences(vc, person)}
        kinds = kind or list(KINDS)
        changed = [
            Preference(
                k,
                email=current[k].email if email is None else email,
                webhook=current[k].webhook if webhook is None else webhook,
            )
            if k in current
            else Preference(k)  # an unknown kind: set_preferences names the problem
            for k in kinds
        ]
        notification.set_preferences(vc, person, changed)
    found = notification.preferences(vc, person)
    if as_json:
        print_json({"person": person, "preferences": [asdict(p) for p in found]})
        return
    table = Table(title=f"Notifications for {person}", title_justify="left")
    for col in ("kind", "what", "email", "webhook"):
        table.add_column(col)
    for p in found:
        table.add_row(
            p.kind, KINDS[p.kind], "on" if p.email else "off", "on" if p.webhook else "off"
        )
    console.print(table)


@notify_app.command("webhook")
def webhook(
    url: Annotated[
        str | None, typer.Argument(help="A Slack-compatible incoming webhook URL to set.")
    ] = None,
    person: Annotated[
        str | None,
        typer.Option("--person", help="The person's own webhook (default: the organisation's)."),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the webhook.")] = False,
    as_json: AsJson = False,
) -> None:
    """Show, set or remove the organisation's webhook (used for everyone who has none
    of their own) or a person's own."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import notification

    vc = open_valuechain()
    if clear or url:
        notification.set_webhook(vc, None if clear else url, person)
    current = notification.webhook(vc, person)
    if as_json:
        print_json({"person": person, "url": current})
        return
    whose = f"{person}'s" if person else "The organisation's"
    console.print(f"{whose} webhook: {current or 'none'}", highlight=False)


@notify_app.command("send")
def send(
    to: Annotated[str, typer.Argument(help="A person's id or an email address.")],
    kind: Annotated[str, typer.Option("--kind", help="One of the notification kinds.")],
    subject: Annotated[str, typer.Option("--subject", help="The subject line.")],
    body: Annotated[str, typer.Option("--body", help="The text.")],
    link: Annotated[str | None, typer.Option("--link", help="A link to the matter.")] = None,
    as_json: AsJson = False,
) -> None:
    """Queue a notification (as the person's preferences say) and a job that sends it
    at once; a running `valuechain worker` delivers it."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import notification

    vc = open_valuechain()
    ids = notification.notify(vc, to, kind, subject, body, link)
    from valuechain.jobs.tasks import open_queue  # here: huey is a slow import

    queue = open_queue()
    for row_id in ids:
        queue.deliver_notification(vc.org_id, row_id)
    if as_json:
        print_json({"outbox": ids})
        return
    console.print(f"Queued {len(ids)} message(s) for {to}.", highlight=False)


def _row(r: notification.OutboxRow) -> dict[str, Any]:
    found = asdict(r)
    for key in ("created_at", "due_at", "sent_at"):
        found[key] = found[key].isoformat() if found[key] else None
    return found


@notify_app.command("outbox")
def outbox(
    status: Annotated[
        Status | None, typer.Option("--status", help="Only pending, sent or failed rows.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000, help="Newest rows.")] = 50,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Give every failed row new attempts first.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """The outbox: rows per status, and the newest rows with attempts, next try and
    the last error."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import notification

    vc = open_valuechain()
    if retry_failed:
        console.print(f"Retrying {notification.retry_failed(vc)} failed row(s).")
    found = notification.outbox(vc, status, limit)
    if as_json:
        print_json({"counts": found.counts, "rows": [_row(r) for r in found.rows]})
        return
    console.print(", ".join(f"{n} {s}" for s, n in found.counts.items()), highlight=False)
    table = Table(title_justify="left")
    for col in ("id", "channel", "to", "kind", "status", "attempts", "next try", "error"):
        table.add_column(col)
    for r in found.rows:
        table.add_row(
            r.id,
            r.channel,
            r.address or r.person_id or "",
            r.kind,
            r.status,
            str(r.attempts),
            r.due_at.isoformat(timespec="seconds") if r.status == "pending" else "",
            r.last_error or "",
        )
    console.print(table)


@notify_app.command("drain")
def drain(as_json: AsJson = False) -> None:
    """Send everything due in the outbox now, in this process (no worker needed)."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import notification

    vc = open_valuechain()
    done = notification.drain(vc.engine)
    if as_json:
        print_json(asdict(done))
        return
    console.print(
        f"Sent {done.sent}; {done.failed_attempts} failed attempt(s), {done.given_up} given up.",
        highlight=False,
    )
