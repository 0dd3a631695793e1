"""`valuechain retention`: how long raw survey comments are kept."""

from __future__ import annotations

from typing import Annotated

import typer

from valuechain.cli.app import app, console, open_valuechain, print_json


@app.command("retention")
def retention_command(
    comments_days: Annotated[
        int | None,
        typer.Option("--comments-days", help="Keep raw comments this many days (1-36500)."),
    ] = None,
    keep_comments: Annotated[
        bool, typer.Option("--keep-comments", help="Keep raw comments until deleted.")
    ] = False,
    purge: Annotated[
        bool, typer.Option("--purge", help="Delete the comments older than that now.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Show or set how long raw survey comments are kept; with --purge, delete the
    older ones now (a scheduled job does the same)."""
    # Services load NumPy and SQLAlchemy: imported when a command runs (see cli/main.py).
    from valuechain.services import retention
    from valuechain.services.audit import Actor
    from valuechain.services.errors import ValuechainError

    if comments_days is not None and keep_comments:
        raise ValuechainError("--comments-days and --keep-comments contradict each other")
    vc = open_valuechain()
    actor = Actor.command_line()
    if comments_days is not None or keep_comments:
        retention.set_comment_retention(vc, None if keep_comments else comments_days, actor)
    purged = retention.purge_comments(vc, actor=actor) if purge else None
    days = retention.comment_retention(vc)
    if as_json:
        print_json({"comments_days": days, "purged": purged})
        return
    kept = "until deleted" if days is None else f"{days} days"
    console.print(f"Raw comments are kept {kept}.", highlight=False)
    if purged is not None:
        console.print(f"Purged {purged} comments.", highlight=False)
