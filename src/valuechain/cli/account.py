"""`valuechain account create|list` and `valuechain audit`: accounts and the audit log
from the command line, for whoever runs the server (they hold the database anyway)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from valuechain.cli.app import app, console, open_valuechain, print_json
from valuechain.cli.tables import Table
from valuechain.domain.account import MAX_AUDIT_PAGE, AccountRole, password_problem

account_app = typer.Typer(
    help="Accounts that may sign in to the web app and the API.", no_args_is_help=True
)
app.add_typer(account_app, name="account")


def _ask_password() -> str:
    """Ask twice, hidden, until the two agree and the password is long enough."""
    while True:
        first: str = typer.prompt("Password", hide_input=True)
        problem = password_problem(first)
        if problem is not None:
            console.print(f"[red]{problem[:1].upper() + problem[1:]}.[/]", highlight=False)
            continue
        again: str = typer.prompt("Password again", hide_input=True)
        if again == first:
            return first
        console.print("[red]The two passwords are not the same.[/]")


@account_app.command("create")
def create(
    email: Annotated[str, typer.Argument(help="The account's email address (its sign-in name).")],
    role: Annotated[
        AccountRole, typer.Option("--role", help="admin, lead, member or viewer.")
    ] = AccountRole.MEMBER,
    name: Annotated[str, typer.Option("--name", help="The name shown in the app.")] = "",
    person: Annotated[
        str,
        typer.Option(
            "--person",
            help="Id of the person on the map (people.csv) the account belongs to; "
            "their unit is the account's unit.",
        ),
    ] = "",
) -> None:
    """Create an account; the password is asked for (twice, hidden)."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import accounts
    from valuechain.services.audit import Actor
    from valuechain.services.errors import ValuechainError

    vc = open_valuechain(create=True)  # the first account may start the organisation
    if accounts.account_by_email(vc, email) is not None:
        raise ValuechainError(f"there is already an account for {email.strip().casefold()}")
    password = _ask_password()
    account = accounts.create_account(
        vc, email, password, role, Actor.command_line(), name=name, person_id=person or None
    )
    unit = f", unit {account.unit_id}" if account.unit_id else ""
    console.print(
        f"Created the {account.role.value} account {account.email}{unit}.", highlight=False
    )


@account_app.command("update")
def update(
    email: Annotated[str, typer.Argument(help="The account's email address.")],
    role: Annotated[
        AccountRole | None,
        typer.Option("--role", help="A new role: admin, lead, member or viewer."),
    ] = None,
    person: Annotated[
        str | None,
        typer.Option("--person", help="Link to this person of the map; an empty id unlinks."),
    ] = None,
    disable: Annotated[
        bool, typer.Option("--disable", help="No more sign-ins; its sessions end now.")
    ] = False,
    enable: Annotated[bool, typer.Option("--enable", help="Allow sign-ins again.")] = False,
    password: Annotated[
        bool, typer.Option("--password", help="Set a new password (asked for); sessions end.")
    ] = False,
) -> None:
    """Change an account's role, person, whether it may sign in, or its password."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import accounts
    from valuechain.services.audit import Actor
    from valuechain.services.errors import ValuechainError

    if disable and enable:
        raise ValuechainError("--disable and --enable contradict each other")
    vc = open_valuechain()
    if accounts.account_by_email(vc, email) is None:
        raise ValuechainError(f"there is no account for {email.strip().casefold()}")
    kwargs: dict[str, Any] = {}
    if person is not None:
        kwargs["person_id"] = person or None
    account = accounts.update_account(
        vc,
        email,
        Actor.command_line(),
        role=role,
        active=False if disable else (True if enable else None),
        password=_ask_password() if password else None,
        **kwargs,
    )
    state = "active" if account.active else "disabled"
    unit = f", unit {account.unit_id}" if account.unit_id else ""
    console.print(f"{account.email}: {account.role.value}, {state}{unit}.", highlight=False)


@account_app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Every account with its role, person and unit."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import accounts

    found = accounts.list_accounts(open_valuechain())
    if as_json:
        print_json(
            {
                "accounts": [
                    {
                        "id": a.id,
                        "email": a.email,
                        "name": a.name,
                        "role": a.role.value,
                        "person_id": a.person_id,
                        "unit_id": a.unit_id,
                        "active": a.active,
                        "created_at": a.created_at.isoformat(),
                        "has_password": a.has_password,
                    }
                    for a in found
                ]
            }
        )
        return
    table = Table(title="Accounts", title_justify="left")
    for col in ("email", "name", "role", "person", "unit", "created"):
        table.add_column(col)
    for a in found:
        table.add_row(
            a.email,
            a.name,
            a.role.value,
            a.person_id or "—",
            a.unit_id or "—",
            a.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table)


@app.command("audit")
def audit_(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    page: Annotated[int, typer.Option("--page", min=1, help="Page number, from 1.")] = 1,
    per_page: Annotated[
        int, typer.Option("--per-page", min=1, max=MAX_AUDIT_PAGE, help="Events per page.")
    ] = 50,
) -> None:
    """The audit log, newest first: sign-ins, sign-outs, account changes, imports and
    exports, with who, when, what and from where."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import audit

    found = audit.read_page(open_valuechain(), page, per_page)
    if as_json:
        print_json(
            {
                "total": found.total,
                "page": found.page,
                "per_page": found.per_page,
                "events": [e.as_json() for e in found.events],
            }
        )
        return
    table = Table(
        title=f"Audit log (page {found.page} of {found.pages}, {found.total} events)",
        title_justify="left",
    )
    for col in ("when (UTC)", "who", "what", "outcome", "subject", "from", "detail"):
        table.add_column(col)
    for e in found.events:
        table.add_row(
            e.at.strftime("%Y-%m-%d %H:%M:%S"),
            e.actor or "—",
            e.action,
            e.outcome,
            e.subject or "—",
            e.address or "—",
            e.detail or "",
        )
    console.print(table)
