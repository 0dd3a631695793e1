"""Forms pick units and people by name: a ``<datalist>`` offers the names, and the
server turns what was typed back into an id. Ids stay in URLs and the API."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from valuechain.services.errors import Invalid


class FieldProblem(Invalid):
    """A form field's value is refused; ``field`` names the input the message belongs
    next to, so the page can show it there and keep what was typed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Choice:
    """One thing a form may pick: its id, the name people know it by, and a hint
    shown beside the name in the suggestions (e.g. an email)."""

    id: str
    name: str
    hint: str = ""

    @property
    def value(self) -> str:
        """What the suggestion puts in the field: the name, or the hint when the name
        alone does not tell this choice apart (two people or units of one name)."""
        return self.hint or self.name


def pick(typed: str, choices: Iterable[Choice], *, field: str, what: str) -> str:
    """The id of the choice ``typed`` means: its exact name (case-insensitive), its
    id, or its hint (an email). Raises :class:`FieldProblem` in words when nothing or
    more than one thing has that name."""
    text = typed.strip()
    if not text:
        raise FieldProblem(field, f"Type the name of a {what}.")
    folded = text.casefold()
    by_name: dict[str, list[str]] = {}
    by_id: dict[str, str] = {}
    by_hint: dict[str, list[str]] = {}
    for c in choices:
        by_name.setdefault(c.name.casefold(), []).append(c.id)
        by_id[c.id] = c.id
        if c.hint:
            by_hint.setdefault(c.hint.casefold(), []).append(c.id)
    # An id is exact and unique, so it wins over a name that happens to equal it.
    if text in by_id:
        return text
    for found in (by_name.get(folded, []), by_hint.get(folded, [])):
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise FieldProblem(
                field,
                f"More than one {what} is called “{text}”: pick one from the list "
                f"(it shows them apart).",
            )
    raise FieldProblem(field, f"No {what} is called “{text}”: pick one from the list.")


def unit_choices(described: Mapping[str, Mapping[str, str]]) -> list[Choice]:
    """Units as choices, from ``Valuechain.describe_units``; a name two units share is
    told apart by its id in the suggestion."""
    counts: dict[str, int] = {}
    for d in described.values():
        counts[d["name"].casefold()] = counts.get(d["name"].casefold(), 0) + 1
    return [
        Choice(uid, d["name"], uid if counts[d["name"].casefold()] > 1 else "")
        for uid, d in described.items()
    ]


def shown(typed: str, choices: Iterable[Choice]) -> str:
    """What a form field shows for a stored id: the name when the id is known."""
    for c in choices:
        if c.id == typed:
            return c.name
    return typed
