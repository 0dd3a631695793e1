"""The Agree capability's files checked row by row: business calendars, agreements
(one row per metric) and the commitment log."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from valuechain.domain.agreement import (
    PERCENT_METRICS,
    Agreement,
    AgreementState,
    CalendarSpec,
    Commitment,
    Metric,
    obligation_lines,
)
from valuechain.domain.bundle_cells import Plan, is_zone, iso_day, moment_of
from valuechain.domain.bundle_schema import Row, show
from valuechain.domain.bundle_state import BundleState
from valuechain.domain.calendar import CalendarError, parse_holidays, parse_hours
from valuechain.domain.commitment import RecurrenceError, check_rule


def _differs(first: tuple[object, ...], later: tuple[object, ...]) -> bool:
    """A later row of an agreement names the same result and customer as its first row;
    its other agreement-wide cells are empty or equal to the first row's."""
    if first[:2] != later[:2]:
        return True
    return any(b is not None and a != b for a, b in zip(first[2:], later[2:], strict=True))


class AgreeRows(BundleState):
    """The Agree capability's files checked row by row: business calendars, agreements"""

    def calendars(self, plan: Plan, rows: Iterable[Row]) -> None:
        stored = self.stored_ids["calendars"]
        label = plan.label
        for line, values, ok in self.values("calendars", plan, rows):
            name, zone, hours, holidays = values
            key = self.register("calendars", label, line, name, "calendar", "name")
            if isinstance(zone, str) and not is_zone(zone.strip()):
                self.problems.add(
                    label,
                    line,
                    "timezone",
                    "an IANA time zone such as Europe/Amsterdam",
                    show(zone),
                )
                ok = False
            for column, text, parse in (
                ("hours", hours, parse_hours),
                ("holidays", holidays, parse_holidays),
            ):
                if isinstance(text, str):
                    try:
                        parse(text)
                    except CalendarError as error:
                        expected, _, found = (
                            str(error).removeprefix("expected ").partition("; found ")
                        )
                        self.problems.add(label, line, column, expected, found or show(text))
                        ok = False
            if key is None or not ok or self.problems:
                continue
            self.stored["calendars"] += key in stored
            self.org_map.calendars.append(CalendarSpec(key, zone.strip(), hours.strip(), holidays))

    def agreements(self, plan: Plan, rows: Iterable[Row]) -> None:
        """One row per metric; the rows of one agreement agree on everything but the
        metric and its target, and name each metric once."""
        stored = self.stored_ids["agreements"]
        label = plan.label
        units, results, calendars = self.ids["units"], self.ids["results"], self.ids["calendars"]
        ids, lines = self.ids["agreements"], self.lines["agreements"]
        problems = self.problems
        built: dict[str, Agreement] = {}
        first: dict[str, tuple[int, tuple[object, ...]]] = {}
        metrics: set[tuple[str, object]] = set()
        for line, values, ok in self.values("agreements", plan, rows):
            (
                aid,
                result_ref,
                customer_ref,
                metric,
                target,
                cal_ref,
                review,
                channel,
                cadence,
                state,
                obligations,
                margin,
                rule,
            ) = values
            result = results.get(result_ref) or self.refer(
                "results", label, line, "result_id", result_ref
            )
            customer = units.get(customer_ref) or self.refer(
                "units", label, line, "customer_id", customer_ref
            )
            calendar = None
            if cal_ref is not None:
                calendar = calendars.get(cal_ref) or self.refer(
                    "calendars", label, line, "calendar", cal_ref
                )
                ok = ok and calendar is not None
            if result is None or customer is None:
                ok = False
            elif self.producer.get(result) == customer:
                problems.add(
                    label,
                    line,
                    "customer_id",
                    "a unit other than the result's producer",
                    show(customer),
                )
                ok = False
            if isinstance(target, float) and metric in PERCENT_METRICS and target > 100:
                problems.add(label, line, "target", "a percentage from 0 to 100", f"{target:g}")
                ok = False
            day = None
            if isinstance(review, str):
                day = iso_day(review)
                if day is None:
                    problems.add(label, line, "review_on", "an ISO 8601 date", show(review))
                    ok = False
            if isinstance(rule, str):
                try:
                    check_rule(rule)
                except RecurrenceError:
                    problems.add(
                        label,
                        line,
                        "deliverable_rrule",
                        "an iCalendar RRULE such as FREQ=WEEKLY;BYDAY=MO;BYHOUR=10",
                        show(rule),
                    )
                    ok = False
            if not isinstance(aid, str):
                continue
            if aid not in ids:
                ids[aid] = aid
                lines[aid] = line
            header = (
                result,
                customer,
                calendar,
                day,
                channel,
                cadence,
                state,
                obligations,
                margin,
                rule,
            )
            seen = first.get(aid)
            if seen is None:
                first[aid] = (line, header)
            elif _differs(seen[1], header):
                problems.add(
                    label,
                    line,
                    None,
                    f"the result_id and customer_id of line {seen[0]}, the first row of "
                    f"agreement {show(aid)}, and its other values or empty cells",
                    "different values",
                )
                ok = False
            if metric is not None:
                size = len(metrics)
                metrics.add((aid, metric))
                if len(metrics) == size:
                    problems.add(
                        label,
                        line,
                        "metric",
                        f"each metric once in agreement {show(aid)}",
                        f"{metric} again",
                    )
                    ok = False
            if not ok or problems or result is None or customer is None:
                continue
            agreement = built.get(aid)
            if agreement is None:
                self.stored["agreements"] += aid in stored
                agreement = built[aid] = Agreement(
                    aid,
                    result,
                    customer,
                    calendar=calendar,
                    review_on=day,
                    channel=channel,
                    cadence=cadence,
                    state=state or AgreementState.AGREED,
                    obligations=obligation_lines(obligations),
                    exceed_margin_hours=margin,
                    deliverable_rrule=rule.strip() if isinstance(rule, str) else None,
                )
            agreement.targets[Metric(metric)] = target
        self.org_map.agreements.extend(built.values())

    def commitments(self, plan: Plan, rows: Iterable[Row]) -> None:
        """One row per agreement and due time."""
        label = plan.label
        agreements = self.ids["agreements"]
        problems = self.problems
        seen: dict[tuple[str, datetime], int] = {}
        for line, values, ok in self.values("commitments", plan, rows):
            agreement_ref, *times = values
            agreement = agreements.get(agreement_ref) or self.refer(
                "agreements", label, line, "agreement_id", agreement_ref
            )
            moments: list[datetime | None] = []
            for column, text in zip(("due_at", "delivered_at", "warned_at"), times, strict=True):
                moment = moment_of(text) if isinstance(text, str) else None
                if isinstance(text, str) and moment is None:
                    problems.add(label, line, column, "an ISO 8601 date and time", show(text))
                    ok = False
                moments.append(moment)
            due, delivered, warned = moments
            if agreement is None or due is None:
                continue
            first = seen.setdefault((agreement, due), line)
            if first != line:
                problems.add(
                    label,
                    line,
                    "due_at",
                    f"each due time once per agreement (first on line {first})",
                    "a repeat",
                )
                ok = False
            if ok and not problems:
                self.org_map.commitments.append(Commitment(agreement, due, delivered, warned))
