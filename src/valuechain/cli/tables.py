"""The command line's tables: Rich tables whose cells wrap (``overflow="fold"``)
instead of cutting a long name with an ellipsis, so an 80-column terminal still
shows every unit's whole name."""

from __future__ import annotations

from rich import table as rich_table
from rich.console import Console, ConsoleOptions, RenderResult


class Table(rich_table.Table):
    """A Rich table whose columns fold what does not fit rather than truncate it
    (Rich's default overflow, "ellipsis", is turned into "fold" when drawn, so
    ``add_column`` keeps Rich's typed signature)."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for column in self.columns:
            if column.overflow == "ellipsis":
                column.overflow = "fold"
        yield from super().__rich_console__(console, options)
