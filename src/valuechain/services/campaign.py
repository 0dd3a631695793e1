"""Survey campaigns: create one over the map's relationships, invite every person of
each customer unit with a single-use link, take answers without storing who gave
them, remind those who have not answered, close, and report response rates in a form
that protects who took part.

Anonymity by construction (docs/measure.md, "Campaigns"):

- an invitation holds only SHA-256 hashes of its tokens, and once answered only
  that it is spent (not when: a date would match the response's day; no reminder
  date or count either);
- the response is stored with a fresh random id, the campaign, the rating and rated
  units and the day: nothing links it to the invitation or the person, and no row
  order, id or transaction id lines the spent invitations up with the answers (see
  :mod:`valuechain.store.campaign`);
- the spend and the insert are one transaction, so a link is used once, also under
  concurrent submits (see :func:`valuechain.store.campaign.spend`);
- response rates are shown in bands whose edges lie where at least the threshold
  have and have not answered (:func:`valuechain.domain.campaign.rate_band`), and
  totals only as the group bands imply (:func:`~valuechain.domain.campaign.combined_band`).
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import smtplib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from valuechain.domain.campaign import (
    Campaign,
    CampaignState,
    RateBand,
    can_move,
    combined_band,
    new_token,
    rate_band,
    token_hash,
)
from valuechain.domain.instrument import IMPORTANCE_POINTS, Instrument
from valuechain.domain.response import Answer, Response
from valuechain.domain.unit import UnitKind
from valuechain.services import audit, measure
from valuechain.services.audit import Actor
from valuechain.services.campaign_types import (
    CampaignOut,
    CampaignStatus,
    CreatedCampaign,
    Rate,
    Rates,
    SurveyStored,
)
from valuechain.services.errors import Conflict, Gone, Invalid, NotFound, ValuechainError
from valuechain.services.mail import Mail, Mailer, MailFailed
from valuechain.services.organisation import Valuechain
from valuechain.services.transaction import reading, writing
from valuechain.settings import settings
from valuechain.store import campaign as store
from valuechain.store import measure as measure_store

INTERNAL = frozenset({UnitKind.TEAM.value, UnitKind.DEPARTMENT.value})
#: The free-text field every form offers besides the instrument's own questions.
COMMENT_ITEM = "comment"
MAX_TEXT = 4000


class LinkUnknown(NotFound):
    """No invitation has this token."""

    def __init__(self) -> None:
        super().__init__("This survey link is not valid. Check that it was copied completely.")


class LinkSpent(Gone):
    """The invitation was answered already, or its campaign no longer takes answers."""


@dataclass
class InvalidAnswers(Invalid):
    """The submitted answers have problems: field name → message."""

    problems: dict[str, str]

    def __str__(self) -> str:
        return "; ".join(f"{k}: {v}" for k, v in self.problems.items())

    def extensions(self) -> dict[str, Any]:
        return {"errors": self.problems}


def today() -> date:
    """The current UTC day: the only time a response records."""
    return datetime.now(UTC).date()


def base_url() -> str:
    """The address survey and report links point to (``VALUECHAIN_BASE_URL``), without
    a trailing slash."""
    return settings().base_url


def survey_link(token: str, base: str | None = None) -> str:
    return f"{base or base_url()}/s/{token}"


# -- campaigns ------------------------------------------------------------------------


@contextmanager
def _audited(vc: Valuechain, action: str, actor: Actor | None, subject: str) -> Iterator[Actor]:
    """Record a refused (or, for mail, failed) campaign action in the audit log; the
    action records its own success, with the change where it can."""
    who = actor or Actor.command_line()
    try:
        yield who
    except ValuechainError as error:
        outcome = audit.FAILED if isinstance(error, MailFailed) else audit.REFUSED
        audit.record(vc, action, who, outcome=outcome, subject=subject, detail=str(error))
        raise


def _campaign(vc: Valuechain, campaign_id: str) -> Campaign:
    with reading(vc) as conn:
        found = store.read_campaign(conn, vc.org_id, campaign_id)
    if found is None:
        raise NotFound(f"no campaign with id {campaign_id!r}")
    return found


def describe(campaign: Campaign) -> CampaignOut:
    return {
        "id": campaign.id,
        "name": campaign.name,
        "instrument": campaign.instrument,
        "opens_on": campaign.opens_on.isoformat() if campaign.opens_on else None,
        "closes_on": campaign.closes_on.isoformat() if campaign.closes_on else None,
        "state": campaign.state.value,
    }


def list_campaigns(vc: Valuechain) -> list[CampaignOut]:
    """Every campaign (created here or imported with responses.csv), by id."""
    with reading(vc) as conn:
        return [describe(c) for c in store.read_campaigns(conn, vc.org_id)]


def newest_first_with_rates(vc: Valuechain) -> list[dict[str, Any]]:
    """Every campaign newest first (the reverse of ``domain.campaign.time_order``), each
    with its total response rate as :func:`rates` shows it (a band, never a count of
    answers), read in one unit of work."""
    with reading(vc) as conn:
        found = [describe(c) for c in store.read_campaigns(conn, vc.org_id)]
        counts = store.every_group_count(conn, vc.org_id)
        limit = measure_store.read_threshold(conn, vc.org_id)
    return [{**c, "total": rates(counts.get(c["id"], []), limit)["total"]} for c in reversed(found)]


def default_relationships(vc: Valuechain) -> list[tuple[str, str]]:
    """(provider, customer) for every internal customer unit and every internal
    provider whose results it is linked to on the map, by any relation."""
    chain = vc.chain()
    g, cols = chain.graph, chain.columns
    providers = g.result_unit[g.link_result]
    customers = g.link_customer
    internal = np.array([k in INTERNAL for k in cols.unit_kinds], dtype=bool)
    keep = (providers != customers) & internal[providers] & internal[customers]
    pairs = np.unique(np.stack([providers[keep], customers[keep]], axis=1), axis=0)
    return [(cols.unit_ids[int(p)], cols.unit_ids[int(c)]) for p, c in pairs]


def create_campaign(
    vc: Valuechain,
    campaign_id: str,
    *,
    name: str | None = None,
    instrument: str,
    opens_on: date | None = None,
    closes_on: date | None = None,
    relationships: Sequence[tuple[str, str]] | None = None,
    actor: Actor | None = None,
) -> CreatedCampaign:
    """Create a draft campaign. ``relationships`` are (provider, customer) unit pairs;
    by default every customer unit rates every provider whose results it uses.
    Recorded in the audit log, as is a refusal."""
    with _audited(vc, audit.CAMPAIGN_CREATED, actor, campaign_id.strip()) as who:
        return _create(vc, campaign_id, name, instrument, opens_on, closes_on, relationships, who)


def _create(
    vc: Valuechain,
    campaign_id: str,
    name: str | None,
    instrument: str,
    opens_on: date | None,
    closes_on: date | None,
    relationships: Sequence[tuple[str, str]] | None,
    who: Actor,
) -> CreatedCampaign:
    campaign_id = campaign_id.strip()
    if not campaign_id:
        raise Invalid("a campaign needs an id")
    try:
        # One unit: the checks read what the insert relies on.
        with writing(vc) as conn:
            return _insert(
                vc, conn, campaign_id, name, instrument, opens_on, closes_on, relationships, who
            )
    except IntegrityError:
        raise Conflict(f"there is already a campaign {campaign_id!r}") from None


def _insert(
    vc: Valuechain,
    conn: Connection,
    campaign_id: str,
    name: str | None,
    instrument: str,
    opens_on: date | None,
    closes_on: date | None,
    relationships: Sequence[tuple[str, str]] | None,
    who: Actor,
) -> CreatedCampaign:
    if instrument not in measure.instruments(vc):
        known = ", ".join(sorted(measure.instruments(vc)))
        raise NotFound(f"no instrument {instrument!r} (known: {known})")
    if opens_on and closes_on and closes_on < opens_on:
        raise Invalid(f"closes on {closes_on} is before it opens on {opens_on}")
    pairs = list(relationships) if relationships is not None else default_relationships(vc)
    units = vc.describe_units({u for pair in pairs for u in pair})
    for provider, customer in pairs:
        for unit in (provider, customer):
            if unit not in units:
                raise NotFound(f"no unit with id {unit!r}")
        if provider == customer:
            raise Invalid(f"unit {provider!r} cannot rate itself")
    if not pairs:
        raise Conflict("the campaign covers no relationship: the map has no links yet")
    campaign = Campaign(
        campaign_id, name or campaign_id, instrument, opens_on, closes_on, CampaignState.DRAFT
    )
    store.insert_campaign(conn, vc.org_id, campaign, pairs)
    audit.record(
        vc,
        audit.CAMPAIGN_CREATED,
        who,
        subject=campaign_id,
        detail=f"{instrument}, {len(set(pairs))} relationships",
        conn=conn,
    )
    return {**describe(campaign), "relationships": len(set(pairs))}


def close_campaign(vc: Valuechain, campaign_id: str, *, actor: Actor | None = None) -> CampaignOut:
    """Close the campaign: its links stop working, and its sealed responses join the
    published results in the same transaction (all at once, so no number ever moves
    by one answer). Recorded in the audit log, as is a refusal."""
    # The refusal is recorded by _audited after the unit rolled back.
    with _audited(vc, audit.CAMPAIGN_CLOSED, actor, campaign_id) as who, writing(vc) as conn:
        campaign = _campaign(vc, campaign_id)
        if not can_move(campaign.state, CampaignState.CLOSED):
            raise Conflict(f"campaign {campaign_id!r} is already closed")
        store.set_state(conn, vc.org_id, campaign_id, CampaignState.CLOSED, was=campaign.state)
        store.unseal(conn, vc.org_id, campaign_id)
        audit.record(vc, audit.CAMPAIGN_CLOSED, who, subject=campaign_id, conn=conn)
        return describe(_campaign(vc, campaign_id))


def _mail(
    vc: Valuechain,
    campaign: Campaign,
    who: store.Invitee,
    token: str,
    base: str | None,
    *,
    reminder: bool,
) -> Mail:
    names = vc.describe_units([who.provider_id])
    provider = names.get(who.provider_id, {}).get("name", who.provider_id)
    closes = (
        f" The survey closes on {campaign.closes_on.isoformat()}." if campaign.closes_on else ""
    )
    opening = (
        f"A reminder: we have not yet had your answers about {provider}."
        if reminder
        else f"How well does {provider} serve your team? Your answers help it improve."
    )
    body = (
        f"Hello {who.name},\n\n{opening}\n\n"
        f"Answer here (a few minutes; no sign-in needed):\n{survey_link(token, base)}\n\n"
        "The link is yours and works once. Valuechain notes that you have answered, "
        "so that you get no reminder; your answers are stored apart from that note, "
        "without your name and without anything that links them to your invitation. "
        f"Results are only shown for groups of several respondents.{closes}\n"
    )
    subject = f"{'Reminder: ' if reminder else ''}{campaign.name}: how is {provider} doing?"
    return Mail(to=who.email, subject=subject, body=body)


def invite(
    vc: Valuechain,
    campaign_id: str,
    *,
    mailer: Mailer | None = None,
    base: str | None = None,
    actor: Actor | None = None,
) -> int:
    """Open the campaign (from draft) and mail a single-use link to every person of
    each customer unit it covers who has none yet, one per provider their unit rates.
    Returns how many invitations were sent. Mail settings are read before anything
    is written, so nothing changes when mail is not configured.

    An invitation is stored only once the mail server has accepted its mail, so when
    the server fails part-way (:class:`MailFailed`, saying how many went out) a rerun
    sends exactly the ones not sent. Recorded in the audit log (sent, refused or
    failed)."""
    with _audited(vc, audit.CAMPAIGN_INVITED, actor, campaign_id) as who:
        campaign = _campaign(vc, campaign_id)
        sender = mailer or Mailer.from_environment()
        if campaign.state is CampaignState.CLOSED:
            raise Conflict(f"campaign {campaign_id!r} is closed")
        day = today()
        with writing(vc) as conn:
            if campaign.state is CampaignState.DRAFT:
                store.set_state(
                    conn, vc.org_id, campaign_id, CampaignState.OPEN, was=campaign.state
                )
            invitees = store.uninvited(conn, vc.org_id, campaign_id)
        tokens = [new_token() for _ in invitees]
        sent = 0

        def stored(_: Mail) -> None:
            # One transaction per accepted mail: a crash loses at most the one link
            # whose mail was accepted and not yet stored (a rerun sends a new one).
            nonlocal sent
            try:
                with writing(vc) as conn:
                    store.insert_invitations(
                        conn,
                        vc.org_id,
                        campaign_id,
                        [invitees[sent]],
                        [token_hash(tokens[sent])],
                        day,
                    )
            except IntegrityError:
                pass  # a concurrent run invited them: its link stands
            sent += 1

        try:
            sender.send(
                (
                    _mail(vc, campaign, person, token, base, reminder=False)
                    for person, token in zip(invitees, tokens, strict=True)
                ),
                on_sent=stored,
            )
        except (smtplib.SMTPException, OSError) as error:
            raise MailFailed(
                f"the mail server failed after {sent} of {len(invitees)} invitations "
                f"({error or type(error).__name__}); invite again to send the rest"
            ) from error
        audit.record(
            vc, audit.CAMPAIGN_INVITED, who, subject=campaign_id, detail=f"{sent} invitations sent"
        )
        return sent


def send_reminders(
    vc: Valuechain,
    campaign_id: str,
    *,
    mailer: Mailer | None = None,
    base: str | None = None,
    actor: Actor | None = None,
) -> int:
    """Mail every invitee who has not answered a fresh link to the same invitation
    (their earlier links keep working; any one of them spends it). Spent
    invitations get nothing. Returns how many reminders were sent. For the task
    queue: safe to run again; each run reminds whoever is still outstanding.
    Recorded in the audit log (sent, refused or failed)."""
    with _audited(vc, audit.CAMPAIGN_REMINDED, actor, campaign_id) as who:
        campaign = _campaign(vc, campaign_id)
        sender = mailer or Mailer.from_environment()
        if campaign.state is not CampaignState.OPEN:
            raise Conflict(f"campaign {campaign_id!r} is {campaign.state.value}, not open")
        with writing(vc) as conn:
            pending = store.unspent(conn, vc.org_id, campaign_id)
            tokens = [new_token() for _ in pending]
            fresh = {iid: token_hash(t) for (iid, _), t in zip(pending, tokens, strict=True)}
            # Every invitation gets one more token, a spent one a dummy nobody holds: how
            # many tokens an invitation has must not say when it was answered.
            everyone = store.invitation_ids(conn, vc.org_id, campaign_id)
            store.add_tokens(
                conn,
                vc.org_id,
                everyone,
                [fresh.get(iid) or token_hash(new_token()) for iid in everyone],
            )
        try:
            sent = sender.send(
                _mail(vc, campaign, person, token, base, reminder=True)
                for (_, person), token in zip(pending, tokens, strict=True)
            )
        except (smtplib.SMTPException, OSError) as error:
            # Not "n of m": m is how many have not answered, which no record keeps.
            raise MailFailed(
                f"the mail server failed part-way through the reminders "
                f"({error or type(error).__name__}); remind again to reach the rest"
            ) from error
        # No count: how many were reminded is how many have not answered.
        audit.record(vc, audit.CAMPAIGN_REMINDED, who, subject=campaign_id)
        return sent


# -- response rates -------------------------------------------------------------------


def _shown(band: RateBand) -> Rate:
    return {
        "invited": band.invited,
        "rate_low": band.low,
        "rate_high": band.high,
        "rate": band.label,
        "suppressed": band.suppressed,
    }


def rates(counts: Sequence[tuple[str, str, int, int]], threshold: int) -> Rates:
    """The rates as shown, from ``(provider, customer, invited, responded)`` per group:
    per group (:func:`rate_band`), and per provider and in total only as the groups'
    bands imply (:func:`combined_band`), so every number any reader sees is a function
    of the group bands alone. Pure, so the attack tests can enumerate every count a
    reader might suspect and compare what each would show."""
    bands = [rate_band(n, k, threshold) for _, _, n, k in counts]
    by_provider: dict[str, list[RateBand]] = {}
    for (p, _, _, _), band in zip(counts, bands, strict=True):
        by_provider.setdefault(p, []).append(band)
    return {
        "groups": [
            {"provider": p, "customer": c, **_shown(band)}
            for (p, c, _, _), band in zip(counts, bands, strict=True)
        ],
        "providers": [
            {"provider": p, **_shown(combined_band(b))} for p, b in sorted(by_provider.items())
        ],
        "total": _shown(combined_band(bands)),
    }


def status(vc: Valuechain, campaign_id: str, *, unit: str | None = None) -> CampaignStatus:
    """The campaign with its response rate per group (provider × customer unit), per
    provider and in total (:func:`rates`); with ``unit``, only the groups where it is
    the provider or the customer. The exact number of respondents is never part of
    the answer."""
    with reading(vc) as conn:
        campaign = _campaign(vc, campaign_id)
        counts = store.group_counts(conn, vc.org_id, campaign_id)
        limit = measure_store.read_threshold(conn, vc.org_id)
        if unit is not None:
            counts = [row for row in counts if unit in (row[0], row[1])]
        names = vc.describe_units({u for p, c, _, _ in counts for u in (p, c)})

    def name(unit_id: str) -> str:
        return str(names.get(unit_id, {}).get("name", unit_id))

    shown = rates(counts, limit)
    return {
        **describe(campaign),
        "threshold": limit,
        "unit": unit,
        "groups": [
            {
                **g,
                "provider_name": name(g["provider"]),
                "customer_name": name(g["customer"]),
            }
            for g in shown["groups"]
        ],
        "providers": [{**p, "provider_name": name(p["provider"])} for p in shown["providers"]],
        "total": shown["total"],
    }


def campaigns_of_unit(vc: Valuechain, unit: str) -> list[CampaignStatus]:
    """The response rates of every campaign that covers ``unit`` (as provider or
    customer), restricted to its groups."""
    with reading(vc):
        if not vc.describe_units([unit]):
            raise NotFound(f"no unit with id {unit!r}")
        found: list[CampaignStatus] = []
        for campaign in list_campaigns(vc):
            rates = status(vc, campaign["id"], unit=unit)
            if rates["groups"]:
                found.append(rates)
        return found


# -- answering ------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyForm:
    """What a valid, unspent link opens: the questions and whom they are about."""

    campaign: Campaign
    instrument: Instrument
    provider_id: str
    provider_name: str
    customer_id: str
    customer_name: str


def open_link(vc: Valuechain, token: str) -> SurveyForm:
    """The survey a link opens; :class:`LinkUnknown` for no such link,
    :class:`LinkSpent` for an answered link or a campaign not taking answers."""
    with reading(vc) as conn:
        link = store.find_link(conn, vc.org_id, token_hash(token))
        campaign = None if link is None else store.read_campaign(conn, vc.org_id, link.campaign_id)
    if link is None or campaign is None or campaign.instrument is None:
        raise LinkUnknown()
    if link.spent:
        raise LinkSpent("This survey link has been used already. Thank you for your answers.")
    if not campaign.accepts_answers(today()):
        raise LinkSpent("This survey is not open for answers.")
    instruments = measure.instruments(vc)
    if campaign.instrument not in instruments:
        raise LinkUnknown()
    names = vc.describe_units([link.provider_id, link.customer_id])
    return SurveyForm(
        campaign,
        instruments[campaign.instrument],
        link.provider_id,
        names.get(link.provider_id, {}).get("name", link.provider_id),
        link.customer_id,
        names.get(link.customer_id, {}).get("name", link.customer_id),
    )


@dataclass
class Submission:
    """Answers as submitted, before checking: ``scores`` item → (perception,
    expectation), free ``texts`` item → text, ``importance`` dimension → points,
    and a general ``comment``."""

    scores: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    importance: dict[str, float] = field(default_factory=dict)
    comment: str = ""

    def digest(self) -> str:
        """SHA-256 of a canonical JSON form: equal answers, equal digest."""
        document = {
            "scores": {k: list(v) for k, v in sorted(self.scores.items())},
            "texts": dict(sorted(self.texts.items())),
            "importance": dict(sorted(self.importance.items())),
            "comment": self.comment,
        }
        return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def field_name(kind: str, key: str) -> str:
    """The form field of one answer: ``p-ITEM`` perception, ``e-ITEM`` expectation,
    ``t-ITEM`` free text, ``i-DIMENSION`` importance points."""
    return f"{kind}-{key}"


def check(instrument: Instrument, submission: Submission) -> tuple[list[Answer], dict[str, str]]:
    """The answers of a submission and its problems (field name → message, in the
    order of the form; empty when valid). Every rated item needs its perception and,
    where asked, its expectation, each a whole number on the item's scale; free text
    is optional; the importance split is optional but, when given, must be whole
    points for every dimension adding up to 100."""
    answers: list[Answer] = []
    problems: dict[str, str] = {}
    for item in instrument.items:
        if item.scale is None:
            text = submission.texts.get(item.key, "")
            if len(text) > MAX_TEXT:
                problems[field_name("t", item.key)] = (
                    f"Please keep this under {MAX_TEXT} characters."
                )
            continue
        score, expectation = submission.scores.get(item.key, (None, None))
        ok = True
        pairs = [("e", expectation)] if item.expectation else []
        for kind, value in [*pairs, ("p", score)]:
            name = field_name(kind, item.key)
            if value is None:
                what = "what you expect" if kind == "e" else "an answer"
                problems[name] = f"Choose {what} from {item.scale.low} to {item.scale.high}."
                ok = False
            elif not item.scale.contains(value):
                problems[name] = (
                    f"Choose a whole number from {item.scale.low} to {item.scale.high}."
                )
                ok = False
        if ok and score is not None:
            answers.append(
                Answer(
                    item.key,
                    item.dimension,
                    float(score),
                    expectation if item.expectation else None,
                )
            )
    if submission.importance:
        if any(math.isnan(v) for v in submission.importance.values()):
            problems["importance"] = (
                f"Give every aspect its points (0 is fine), adding up to {IMPORTANCE_POINTS}."
            )
        elif found := instrument.importance_problems(submission.importance):
            problems["importance"] = "; ".join(found).capitalize() + "."
    if len(submission.comment) > MAX_TEXT:
        problems[COMMENT_ITEM] = f"Please keep your comment under {MAX_TEXT} characters."
    return answers, problems


def submit(vc: Valuechain, token: str, submission: Submission) -> SurveyStored:
    """Store the answers of one link, once: validate (:class:`InvalidAnswers`, the
    link stays unspent), then in one transaction spend the invitation and insert the
    anonymous response. A second submit finds the link spent (:class:`LinkSpent`):
    a link spent once is a rule of the survey, not a retry mechanism. A client that
    retries sends an Idempotency-Key, and the edge runs this in the key's unit of
    work (:mod:`valuechain.services.idempotency`), which answers a retry with the
    stored result before the link is looked at."""
    form = open_link(vc, token)
    answers, problems = check(form.instrument, submission)
    if problems:
        raise InvalidAnswers(problems)
    day = today()
    texts = [(k, v.strip()) for k, v in submission.texts.items() if v.strip()]
    if submission.comment.strip():
        texts.append((COMMENT_ITEM, submission.comment.strip()))
    response = Response(
        id=secrets.token_hex(16),
        campaign=form.campaign.id,
        instrument=form.instrument.key,
        rater_id=form.customer_id,
        rated_id=form.provider_id,
        submitted_on=day,
        answers=answers,
        comments=texts,
    )
    result: SurveyStored = {
        "status": "stored",
        "campaign": form.campaign.id,
        "provider": form.provider_id,
        "submitted_on": day.isoformat(),
    }
    importance = submission.importance if form.instrument.importance_split else {}
    # An acknowledged answer must survive a crash and, on SQLite, a power loss too.
    with writing(vc, durable=True) as conn:
        # The spend comes first: it locks the group (on SQLite, takes the write lock)
        # before any read.
        group = store.Link(form.campaign.id, form.provider_id, form.customer_id, spent=False)
        if store.spend(conn, vc.org_id, token_hash(token), group):
            if not store.still_answering(conn, vc.org_id, form.campaign.id, day):
                # Closed since the link was opened: the spend is rolled back.
                raise LinkSpent("This survey is not open for answers.")
            # Sealed until the campaign closes: nothing about an open campaign shows.
            store.seal_response(conn, vc.org_id, response, importance)
            return result
    raise LinkSpent("This survey link has been used already. Thank you for your answers.")


def submission_from_form(instrument: Instrument, form: Mapping[str, str]) -> Submission:
    """A submission from the answer form's fields (see :func:`field_name`); a field
    that is not a number is kept as missing so the form asks again."""

    def number(name: str) -> float | None:
        raw = form.get(name, "").strip()
        try:
            return float(raw) if raw else None
        except ValueError:
            return math.nan

    scores = {
        item.key: (number(field_name("p", item.key)), number(field_name("e", item.key)))
        for item in instrument.items
        if item.scale is not None
    }
    texts = {
        item.key: form.get(field_name("t", item.key), "")
        for item in instrument.items
        if item.scale is None
    }
    importance: dict[str, float] = {}
    if instrument.importance_split:
        given = {d.key: number(field_name("i", d.key)) for d in instrument.drivers}
        if any(v is not None for v in given.values()):
            importance = {k: (math.nan if v is None else v) for k, v in given.items()}
    return Submission(scores, texts, importance, form.get(COMMENT_ITEM, ""))


def form_values(form: Mapping[str, str]) -> dict[str, str]:
    """What the respondent typed, to fill the form again after an error."""
    return {k: v for k, v in form.items() if isinstance(v, str)}
