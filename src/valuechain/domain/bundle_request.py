"""The Request capability's file checked row by row: requests between units."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from valuechain.domain.bundle_cells import Plan, moment_of
from valuechain.domain.bundle_schema import Row, show
from valuechain.domain.bundle_state import BundleState
from valuechain.domain.request import RequestRecord

_REQUEST_TIMES = ("created_at", "first_response_at", "resolved_at")


class RequestRows(BundleState):
    """The Request capability's file checked row by row: requests between units."""

    def requests(self, plan: Plan, rows: Iterable[Row]) -> None:
        """One row per request between two units of the map (or the bundle); times
        in order; thanked only once resolved."""
        label = plan.label
        units = self.ids["units"]
        problems = self.problems
        append = self.org_map.requests.append
        for line, values, ok in self.values("requests", plan, rows):
            rid, customer_ref, provider_ref, *texts, priority, category, thanked = values
            request_id = self.register("requests", label, line, rid, "request")
            customer = units.get(customer_ref) or self.refer(
                "units", label, line, "customer_id", customer_ref
            )
            provider = units.get(provider_ref) or self.refer(
                "units", label, line, "provider_id", provider_ref
            )
            moments: list[datetime | None] = []
            for column, text in zip(_REQUEST_TIMES, texts, strict=True):
                moment = moment_of(text) if isinstance(text, str) else None
                if isinstance(text, str) and moment is None:
                    problems.add(label, line, column, "an ISO 8601 date and time", show(text))
                    ok = False
                moments.append(moment)
            created, first, resolved = moments
            for column, moment, text in zip(
                _REQUEST_TIMES[1:], moments[1:], texts[1:], strict=True
            ):
                if moment is not None and created is not None and moment < created:
                    problems.add(label, line, column, "a time not before created_at", show(text))
                    ok = False
            if thanked is not None and (thanked > 1 or (thanked == 1 and resolved is None)):
                problems.add(
                    label, line, "thanked", "0, or 1 for a resolved request", show(str(thanked))
                )
                ok = False
            if customer is not None and customer == provider:
                problems.add(
                    label, line, "provider_id", "a unit other than the customer", show(provider)
                )
                ok = False
            if request_id is None or customer is None or provider is None or created is None:
                continue
            if ok and not problems:
                append(
                    RequestRecord(
                        request_id,
                        customer,
                        provider,
                        created,
                        first,
                        resolved,
                        priority,
                        category,
                        thanked == 1,
                    )
                )
