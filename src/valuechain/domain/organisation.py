"""The organisation map: units, their results, the links to customers, and people."""

from __future__ import annotations

from dataclasses import dataclass, field

from valuechain.domain.agreement import Agreement, CalendarSpec, Commitment
from valuechain.domain.instrument import Instrument
from valuechain.domain.link import Link
from valuechain.domain.outcome import Outcome
from valuechain.domain.person import Person
from valuechain.domain.request import RequestRecord
from valuechain.domain.response import Response, ResponseColumns
from valuechain.domain.result import Result
from valuechain.domain.unit import Unit


@dataclass(slots=True)
class OrganisationMap:
    """Everything capability 1 ("Map") knows about one organisation."""

    units: list[Unit] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    # Capability 2 ("Measure"): custom instruments and survey responses of a bundle.
    instruments: list[Instrument] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    # A big responses.csv arrives as columns instead (see ``survey_columns``).
    response_columns: ResponseColumns | None = None
    # Capability 7 ("Connect"): the external customers' outcomes per month.
    outcomes: list[Outcome] = field(default_factory=list)
    # Capability 3 ("Agree"): calendars, agreements and the commitment log of a bundle.
    calendars: list[CalendarSpec] = field(default_factory=list)
    agreements: list[Agreement] = field(default_factory=list)
    commitments: list[Commitment] = field(default_factory=list)
    # Capability 4 ("Request"): the requests of a bundle (requests.csv).
    requests: list[RequestRecord] = field(default_factory=list)

    def survey_columns(self) -> ResponseColumns:
        """Every survey response of the map as columns."""
        if self.response_columns is not None and not self.responses:
            return self.response_columns
        if self.response_columns is None:
            return ResponseColumns.of(self.responses)
        raise ValueError("a map holds responses as objects or as columns, not both")
