"""The Measure capability's files checked: ``items.csv`` (custom instruments) and
``responses.csv``, row by row or, for a valid big file, by column."""

from __future__ import annotations

from collections.abc import Iterable

from valuechain.domain.bundle_cells import Plan, check_answer, day_of
from valuechain.domain.bundle_columns import EncodedTable, check_responses
from valuechain.domain.bundle_schema import SCORE_COLUMN, Row, show
from valuechain.domain.bundle_state import BundleState
from valuechain.domain.instrument import BUILT_IN, Instrument, read_items
from valuechain.domain.response import Answer, Response


def late_campaign_problem(campaign: str, state: str) -> tuple[str, str]:
    """The expected and found text for responses naming a stored campaign.

    A campaign's responses all arrive with the bundle that creates it: once any
    number of a campaign can be read, a later import adding a few responses would
    move its cells by those few respondents, and the difference of two readings
    would be their answers (docs/measure.md, over time)."""
    return (
        "a campaign not stored yet (responses are imported only with the campaign they "
        "create; name a new campaign, or import the whole organisation with --replace)",
        f"{show(campaign)}, a campaign already stored ({state})",
    )


class MeasureRows(BundleState):
    """The Measure capability's files checked: ``items.csv`` (custom instruments) and"""

    def items(self, label: str, header: Row, rows: Iterable[Row]) -> None:
        reading = read_items(header[1], rows, file=label)
        for p in reading.problems:
            self.problems.add(p.file, p.line, p.column, p.expected, p.found)
        self.rows["items"] = sum(len(i.items) for i in reading.instruments.values())
        if reading.problems:
            # Its instruments are unknown, so responses naming them are not reported.
            self.unreadable.add("items")
        self.instruments.update(reading.instruments)
        self.org_map.instruments.extend(reading.instruments.values())

    def responses(self, plan: Plan, rows: Iterable[Row]) -> None:
        """One row per item answer; the rows of one response agree on everything
        but the item. Scores and expectations lie on the item's scale."""
        label = plan.label
        units = self.ids["units"]
        problems = self.problems
        if not plan.present[plan.columns.index(SCORE_COLUMN)]:
            problems.add(label, 1, "score", "a column score", "no such column")
        built: dict[str, Response] = {}
        first: dict[str, tuple[int, tuple[object, ...]]] = {}
        answered: set[tuple[str, str]] = set()
        late: set[str] = set()  # stored campaigns named, each reported at its first row
        for line, values, ok in self.values("responses", plan, rows):
            rid, campaign, key, rater_ref, rated_ref, at, item_key, expect, score, comment = values
            state = self.stored_campaigns.get(campaign) if isinstance(campaign, str) else None
            if state is not None:
                ok = False
                if campaign not in late:
                    late.add(campaign)
                    problems.add(label, line, "campaign", *late_campaign_problem(campaign, state))
            rater = units.get(rater_ref) or self.refer("units", label, line, "rater_id", rater_ref)
            rated = units.get(rated_ref) or self.refer("units", label, line, "rated_id", rated_ref)
            if rater is not None and rater == rated:
                problems.add(label, line, "rated_id", "a unit other than rater_id", show(rated))
                ok = False
            day = day_of(at) if isinstance(at, str) else None
            if isinstance(at, str) and day is None:
                problems.add(label, line, "submitted_at", "an ISO 8601 date or time", show(at))
                ok = False
            instrument = self.instruments.get(key) or BUILT_IN.get(key) if key else None
            if isinstance(key, str) and instrument is None:
                ok = False
                if "items" in self.unreadable:
                    continue
                problems.add(
                    label,
                    line,
                    "instrument",
                    "a built-in instrument or one defined in items.csv",
                    show(key),
                )
            item = None
            if instrument is not None and isinstance(item_key, str):
                try:
                    item = instrument.item(item_key)
                except KeyError:
                    problems.add(
                        label, line, "item", f"an item of instrument {key}", show(item_key)
                    )
                    ok = False
            if item is not None:
                ok = check_answer(label, line, item, score, expect, comment, problems) and ok
            if not isinstance(rid, str):
                continue
            header = (campaign, key, rater, rated, day)
            seen = first.get(rid)
            if seen is None:
                first[rid] = (line, header)
            elif seen[1] != header:
                problems.add(
                    label,
                    line,
                    None,
                    f"the campaign, instrument, rater_id, rated_id and day of line {seen[0]}, "
                    f"the first row of response {show(rid)}",
                    "different values",
                )
                ok = False
            if isinstance(item_key, str):
                size = len(answered)
                answered.add((rid, item_key))
                if len(answered) == size:
                    problems.add(
                        label, line, "item", f"each item once in response {show(rid)}", "a repeat"
                    )
                    ok = False
            if not ok or problems or item is None or day is None:
                continue
            response = built.get(rid)
            if response is None:
                response = built[rid] = Response(rid, campaign, key, rater, rated, day)  # type: ignore[arg-type]
            if score is not None:
                response.answers.append(Answer(item.key, item.dimension, score, expect))
            if comment is not None:
                response.comments.append((item.key, comment))
        self.org_map.responses.extend(built.values())

    def responses_by_column(self, plan: Plan, table: EncodedTable | None) -> bool:
        """Take the responses from their columns when every row is valid; ``False``
        sends the caller to :meth:`responses`, which locates every problem."""
        if table is None or self.problems:
            return False
        units = self.ids["units"]
        stored = self.stored_ids["units"]
        trusting = "units" in self.unreadable

        def unit(text: str) -> str | None:
            found = units.get(text)
            if found is None and (text in stored or trusting):
                return text
            return found

        def instrument(key: str) -> Instrument | None:
            return self.instruments.get(key) or BUILT_IN.get(key)

        columns = check_responses(table, plan, unit, instrument, self.stored_campaigns)
        if columns is None:
            return False
        self.rows["responses"] = table.rows
        self.org_map.response_columns = columns
        return True
