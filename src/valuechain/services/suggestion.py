"""Link suggestions: where the data the product already holds shows that a customer A
is served by a provider B — A filed requests to B, A rated B in published survey
campaigns, or an agreement on one of B's results names A — but no result of B is
linked to A on the map in any state, both leads are told in words with the evidence
(docs/map.md, "Suggestions").

Accepting a suggestion is :func:`valuechain.services.map_edit.propose_link` for one of
B's results and a relation the accepting lead picks, in the same unit of work: the
link is proposed, the other side's leads are notified, and the suggestion is gone
because the pair now has a link. Dismissing records an audit event naming the pair,
and the pair is never suggested again (no table of its own).

Survey evidence counts campaigns whose relationship cell is published (shown, about
at least the threshold's respondents, campaign closed); no respondent count and no
score is read, so nothing here says more than the survey pages already show.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from valuechain.services import audit, map_edit
from valuechain.services.audit import Actor
from valuechain.services.errors import Invalid, NotFound
from valuechain.services.organisation import Valuechain
from valuechain.services.transaction import reading, writing
from valuechain.store import organisation as map_store
from valuechain.store import suggestion as store

MAX_PAGE = 200


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _day(at: datetime | None) -> str:
    return "" if at is None else at.date().isoformat()


def evidence_sentences(
    pair: store.PairEvidence,
    names: dict[str, str],
    agreements: list[dict[str, str]],
) -> list[str]:
    """The evidence in words, one sentence part per source, and the missing link last:
    "Sales filed 120 requests to Service desk between 2026-01-05 and 2026-11-30",
    "…", "no result of Service desk is linked to Sales"."""
    a = names.get(pair.customer, pair.customer)
    b = names.get(pair.provider, pair.provider)
    parts: list[str] = []
    if pair.requests:
        first, last = _day(pair.first_request), _day(pair.last_request)
        when = f" on {first}" if first == last else f" between {first} and {last}"
        parts.append(f"{a} filed {_plural(pair.requests, 'request')} to {b}{when}")
    if pair.campaigns:
        parts.append(f"{a} rated {b} in {_plural(pair.campaigns, 'campaign')}")
    if agreements:
        listed = ", ".join(f"{g['id']} on {g['result_name']} ({g['state']})" for g in agreements)
        word = "agreement" if len(agreements) == 1 else "agreements"
        parts.append(f"{a} is the customer of {b} in the {word} {listed}")
    parts.append(f"no result of {b} is linked to {a}")
    return parts


def _page_json(vc: Valuechain, conn: Any, pairs: list[store.PairEvidence]) -> list[dict[str, Any]]:
    keys = [(p.provider, p.customer) for p in pairs]
    agreements = store.agreements_of(conn, vc.org_id, keys)
    results = store.results_of_units(conn, vc.org_id, sorted({p.provider for p in pairs}))
    units, result_names = vc.names(
        {u for key in keys for u in key}, {g.result_id for g in agreements}
    )
    names = {uid: u["name"] for uid, u in units.items()}
    out: list[dict[str, Any]] = []
    for pair in pairs:
        agreed = [
            {
                "id": g.id,
                "state": g.state,
                "result_id": g.result_id,
                "result_name": result_names.get(g.result_id, g.result_id),
            }
            for g in agreements
            if (g.provider, g.customer) == (pair.provider, pair.customer)
        ]
        parts = evidence_sentences(pair, names, agreed)
        sentence = "; ".join(parts)
        out.append(
            {
                "provider": pair.provider,
                "provider_name": names.get(pair.provider, pair.provider),
                "customer": pair.customer,
                "customer_name": names.get(pair.customer, pair.customer),
                "requests": pair.requests,
                "first_request": pair.first_request,
                "last_request": pair.last_request,
                "campaigns": pair.campaigns,
                "agreements": agreed,
                "evidence": parts,
                "sentence": sentence[0].upper() + sentence[1:] + ".",
                "results": [{"id": rid, "name": n} for rid, n in results[pair.provider]],
            }
        )
    return out


def suggestions(
    vc: Valuechain, unit_id: str | None, *, offset: int = 0, limit: int = 50
) -> dict[str, Any]:
    """The suggested links ``unit_id`` is a side of (as provider B or customer A), or
    every one with None (admins), most requests first: ``{"total", "suggestions"}``,
    each with its evidence in words and B's results to pick from. :class:`NotFound`
    for an unknown unit."""
    limit = max(1, min(limit, MAX_PAGE))
    with reading(vc) as conn:
        if unit_id is not None and map_store.read_unit(conn, vc.org_id, unit_id) is None:
            raise NotFound(f"no unit with id {unit_id!r}")
        total, pairs = store.suggested_pairs(
            conn, vc.org_id, date.today(), unit_id=unit_id, offset=max(0, offset), limit=limit
        )
        page = _page_json(vc, conn, pairs)
    return {"total": total, "offset": max(0, offset), "limit": limit, "suggestions": page}


def _suggested(
    vc: Valuechain, conn: Any, unit_id: str, provider: str, customer: str
) -> store.PairEvidence:
    if unit_id not in (provider, customer):
        raise NotFound(f"unit {unit_id!r} is neither side of {provider!r} → {customer!r}")
    found = store.suggested_pair(conn, vc.org_id, date.today(), provider, customer)
    if found is None:
        raise NotFound(f"no suggested link from {provider!r} to {customer!r}")
    return found


def accept(
    vc: Valuechain,
    unit_id: str,
    provider: str,
    customer: str,
    result_id: str,
    relation: str,
    actor: Actor,
    *,
    admin: bool,
) -> dict[str, Any]:
    """Propose the suggested link from the provider's result ``result_id`` to the
    customer with ``relation``, for ``unit_id`` (either side), exactly as
    :func:`map_edit.propose_link` does (an admin's link is confirmed at once), in one
    unit of work with the check that the pair is still suggested (:class:`NotFound`
    otherwise) and that the result is the provider's (:class:`Invalid`)."""
    with writing(vc) as conn:
        _suggested(vc, conn, unit_id, provider, customer)
        result = map_store.read_result(conn, vc.org_id, result_id)
        if result is None or result.unit_id != provider:
            raise Invalid(f"{result_id!r} is not a result of {provider!r}")
        return map_edit.propose_link(
            vc,
            unit_id,
            {"result_id": result_id, "customer_id": customer, "relation": relation},
            actor,
            admin=admin,
        )


def dismiss(
    vc: Valuechain, unit_id: str, provider: str, customer: str, actor: Actor
) -> dict[str, Any]:
    """Dismiss the suggestion for the pair, for both sides and for good: an audit
    event naming the pair (:data:`store.DISMISSED`), which the suggestions leave out.
    :class:`NotFound` when the pair is not suggested to ``unit_id``."""
    with writing(vc) as conn:
        _suggested(vc, conn, unit_id, provider, customer)
        audit.record(
            vc, store.DISMISSED, actor, subject=store.dismissal_subject(provider, customer),
            detail=f"dismissed for {unit_id}", conn=conn,
        )  # fmt: skip
    return {"provider": provider, "customer": customer, "dismissed": True}
