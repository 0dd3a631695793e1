"""Answers not tied to people, on both databases.

- No survey token in any log line: a real ``valuechain serve`` process is asked for
  and sent answers through both kinds of survey link, and its whole output is
  searched for the tokens.
- No order or time shared between who answered and what was answered: respondents
  answer in a known order (with reminders in between), then an attacker holding a
  full copy of the database tries to match invitations (people) with answers by
  every row order the database keeps (row order without ORDER BY, SQLite's rowid,
  PostgreSQL's ctid and xmin, ids, days, token counts), while the campaign is open
  and after it closed, and in a backup taken while it was open.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, create_engine, inspect, text

from tests.builders import chain_map, write_map_before_history
from tests.conftest import TEST_SECURITY
from tests.test_backup import own_url  # noqa: F401 (a fixture)
from tests.test_campaign import LINK
from tests.test_web import free_port, stop
from valuechain import Valuechain
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.person import Person, Role
from valuechain.services import backup, campaign, idempotency
from valuechain.services.campaign import Submission
from valuechain.store.database import make_engine
from valuechain.web.logs import install as install_redaction
from valuechain.web.logs import redact
from valuechain.web.survey import form_nonce


def small_map(people: int) -> OrganisationMap:
    """The test value chain with ``people`` people in the customer unit ``pack``."""
    org_map = chain_map()
    org_map.people = [
        Person(f"p{i:02d}", f"Packer {i}", f"pack{i:02d}@example.org", "pack", Role.MEMBER)
        for i in range(people)
    ]
    return org_map


def first_links(inbox: Any, count: int) -> dict[str, str]:
    """person email → the first link mailed to them."""
    return {
        f"pack{i:02d}@example.org": LINK.findall(
            inbox.to(f"pack{i:02d}@example.org")[0].get_content()
        )[0]
        for i in range(count)
    }


def start_serve(cwd: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """Run ``valuechain serve`` on a free loopback port and wait (up to 120 s: the
    machine may be busy) until it prints its address."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from valuechain.cli.main import main; main()", "serve",
         "--port", str(free_port())],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (line := process.stdout.readline()):
        seen.append(line)
        if found := re.search(r"running at (http://\S+/)", line):
            return process, found.group(1)
    process.kill()
    raise AssertionError("the server did not start:\n" + "".join(seen))


# -- a. no token in any log line --------------------------------------------------------


def test_the_server_log_holds_no_survey_token(
    tmp_path: Path, vc: Valuechain, smtp_server: Any
) -> None:
    vc.write_map(small_map(3))
    campaign.create_campaign(vc, "c1", instrument="pulse", relationships=[("make", "pack")])
    assert campaign.invite(vc, "c1") == 3
    links = list(first_links(smtp_server, 3).values())
    env = {k: v for k, v in os.environ.items() if not k.startswith("VALUECHAIN_")}
    env["VALUECHAIN_DATABASE_URL"] = vc.engine.url.render_as_string(hide_password=False)
    env["VALUECHAIN_ORGANISATION"] = vc.organisation
    process, url = start_serve(tmp_path, env)
    unknown = "x" * 43
    try:
        with httpx.Client(base_url=url, timeout=10) as http:
            assert http.get(f"/s/{links[0]}").status_code == 200
            answered = http.post(
                f"/s/{links[0]}",
                data={"nonce": form_nonce(links[0]), "p-need_now": "4"},
                headers={"Origin": url.rstrip("/")},
            )
            assert answered.status_code == 303
            assert http.get(f"/api/v1/survey/{links[1]}?x=1").status_code == 200
            stored = http.post(
                f"/api/v1/survey/{links[1]}",
                json={"answers": [{"item": "need_now", "score": 3}]},
                headers={"Idempotency-Key": "k1"},
            )
            assert stored.status_code == 201, stored.text
            assert http.post(f"/api/v1/survey/{links[2]}", json={"answers": 1}).status_code == 422
            assert http.get(f"/s/{links[1]}").status_code == 410
            assert http.post(f"/s/{links[2]}", data={"nonce": "no"}).status_code == 403
            assert http.get(f"/s/{unknown}").status_code == 404
            assert http.get(f"/api/v1/survey/{unknown}").status_code == 404
    finally:
        stop(process)
    assert process.stdout is not None
    log = process.stdout.read()
    assert '"GET /s/… HTTP/1.1" 200' in log and '"POST /api/v1/survey/… HTTP/1.1" 201' in log
    for secret in [*links, unknown]:
        assert secret not in log


def test_tokens_are_redacted_in_messages_arguments_and_traces(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_redaction()
    token = "Tok3n_-abcdefghijklmnopqrstuvwxyz0123456789"
    logger = logging.getLogger("uvicorn.error")
    with caplog.at_level(logging.INFO, logger="uvicorn.error"):
        logger.info("%s - %s", "127.0.0.1", f"/api/v1/survey/{token}?x=1")
        try:
            raise ValueError(f"bad path /s/{token}")
        except ValueError:
            logger.exception("failed at /s/%s", token)
    logged = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert token not in logged
    assert "/api/v1/survey/…?x=1" in logged and "bad path /s/…" in logged
    assert redact("/survey/thanks and /s/") == "/survey/thanks and /s/"


# -- b. no order or time shared between who answered and what -------------------------

INVITED = 28
ANSWERED = 24
#: Pairing two random orders of 24 matches 1 on average; 8 or more has a chance of
#: about 1 in 100,000. The order of submission would match all 24.
CHANCE_BOUND = 7
Row = dict[str, Any]


def physical(conn: Connection, sql: str, org_id: int, alias: str = "") -> list[Row]:
    """The rows of ``sql`` (``… FROM table WHERE …``, no ORDER BY) in the order the
    database returns them, each with its position (``_seen``) and what the database
    keeps about where and when it was written: SQLite's ``rowid``; PostgreSQL's
    ``ctid`` (block, line) and ``xmin`` (the writing transaction)."""
    if conn.dialect.name == "sqlite":
        system = f"{alias}rowid AS _rowid"
    else:
        system = f"{alias}ctid::text AS _ctid, {alias}xmin::text::bigint AS _xmin"
    found = conn.execute(text(sql.replace("SELECT ", f"SELECT {system}, ", 1)), {"org": org_id})
    rows = [dict(r._mapping) for r in found]
    for i, row in enumerate(rows):
        row["_seen"] = i
        if "_ctid" in row:
            row["_ctid"] = tuple(int(x) for x in row["_ctid"].strip("()").split(","))
    return rows


def orders(rows: Sequence[Row], *columns: str) -> dict[str, list[Row]]:
    """``rows`` sorted by each key the attacker can see (ties keep the row order)."""
    keys = [k for k in ("_seen", "_rowid", "_ctid", "_xmin", *columns) if rows and k in rows[0]]
    return {k: sorted(rows, key=lambda r, k=k: r[k]) for k in keys}


def best_matching(
    people: dict[str, list[Row]], answers: dict[str, list[Row]], owner: Callable[[Row], str]
) -> tuple[int, str]:
    """The most answers any pairing of an order of the invitations with an order of the
    answers gives to their true respondent, and which pairing."""
    best = (0, "")
    for pk, invitations in people.items():
        for ak, stored in answers.items():
            hits = sum(
                inv["person_id"] == owner(ans) for inv, ans in zip(invitations, stored, strict=True)
            )
            best = max(best, (hits, f"invitations by {pk}, answers by {ak}"))
    return best


def attack(conn: Connection, org_id: int, closed: bool) -> None:
    """Everything an attacker with the whole database can line up, checked."""
    invitations = [
        r
        for r in physical(conn, "SELECT * FROM invitations WHERE org_id = :org", org_id)
        if r["spent"]
    ]
    assert len(invitations) == ANSWERED
    tokens = physical(conn, "SELECT * FROM invitation_tokens WHERE org_id = :org", org_id)
    by_invitation: dict[str, list[Row]] = {}
    for t in tokens:
        by_invitation.setdefault(t["invitation_id"], []).append(t)
    for inv in invitations:
        mine = by_invitation[inv["id"]]
        inv["_tokens"] = len(mine)
        for key in ("_seen", "_rowid", "_ctid", "_xmin"):
            if key in mine[0]:
                inv[f"_token{key}"] = max(t[key] for t in mine)
    # Nothing but its person tells one respondent's invitation from another's.
    visible = {
        tuple(
            (k, v)
            for k, v in sorted(inv.items())
            if k
            not in {
                "id",
                "person_id",
                "_seen",
                "_rowid",
                "_ctid",
                "_token_seen",
                "_token_rowid",
                "_token_ctid",
            }
        )
        for inv in invitations
    }
    assert len(visible) == 1, visible
    # A submit's stored Idempotency-Key (the one table) is not computable from a token
    # hash (its scope would name the invitation, and its xmin the answer's), and its
    # fingerprint is no plain hash of the answers (candidates could be tried on it).
    if not closed:
        keys = physical(conn, "SELECT * FROM idempotency_keys WHERE org_id = :org", org_id)
        scopes = {r["scope"] for r in keys}
        guessed = {
            prefix + hashlib.sha256(f"{t['token_hash']}{extra}".encode()).hexdigest()
            for t in tokens
            for prefix in ("link:", "")
            for extra in ("", "\nsurvey idempotency scope")
        } | {t["token_hash"] for t in tokens}
        assert len(keys) == ANSWERED and not scopes & guessed
        assert all(r["scope"].startswith("link:") for r in keys)
        assert not any(t["token_hash"] in str(r) for r in keys for t in tokens)
    people = orders(
        invitations, "id", "invited_on", *(k for k in invitations[0] if k.startswith("_token"))
    )
    if closed:
        answers = physical(
            conn,
            "SELECT r.*, c.text AS answer FROM responses r JOIN comments c"
            " ON c.org_id = r.org_id AND c.response_id = r.id WHERE r.org_id = :org",
            org_id,
            "r.",
        )
        comments = physical(conn, "SELECT * FROM comments WHERE org_id = :org", org_id)
        answers_by = {
            **orders(answers, "id", "submitted_on"),
            **{f"comment{k}": v for k, v in orders(comments).items()},
        }
        owner = lambda r: str((r.get("answer") or r["text"]).split()[-1])  # noqa: E731
    else:
        answers = physical(conn, "SELECT * FROM sealed_responses WHERE org_id = :org", org_id)
        answers_by = orders(answers, "id")
        owner = lambda r: str(r["payload"]).split("answer of ")[1].split('"')[0]  # noqa: E731
    assert all(len(a) == ANSWERED for a in answers_by.values())
    hits, how = best_matching(people, answers_by, owner)
    assert hits <= CHANCE_BOUND, f"{hits} of {ANSWERED} matched with {how}"


def test_a_copy_of_the_database_does_not_match_people_with_answers(
    vc: Valuechain, smtp_server: Any, tmp_path: Path
) -> None:
    vc.write_map(small_map(INVITED))
    campaign.create_campaign(vc, "c1", instrument="pulse", relationships=[("make", "pack")])
    assert campaign.invite(vc, "c1") == INVITED
    links = first_links(smtp_server, INVITED)
    # The invitation says what is true: who answered is known, what they answered not.
    mail = " ".join(smtp_server.to("pack00@example.org")[0].get_content().split())
    assert "nobody can see whether you answered" not in mail
    assert (
        "Valuechain notes that you have answered, so that you get no reminder; your "
        "answers are stored apart from that note, without your name and without "
        "anything that links them to your invitation."
    ) in mail
    order = random.Random(13).sample(range(INVITED), ANSWERED)
    for turn, i in enumerate(order):
        if turn and turn % 8 == 0:  # reminders after every eighth answer
            assert campaign.send_reminders(vc, "c1") == INVITED - turn
        answer = Submission(
            scores={"need_now": (float(1 + i % 5), None)},
            texts={"better_next": f"answer of p{i:02d}"},
        )
        # Keys a client might well choose: the attacker can guess them.
        token = links[f"pack{i:02d}@example.org"]
        idempotency.run_once(
            vc,
            scope=idempotency.link_scope(token),
            key=f"k{turn}",
            command="survey",
            arguments={"answers": repr(answer)},
            change=lambda token=token, answer=answer: campaign.submit(vc, token, answer),
            secret=token.encode(),
        )
    with vc.engine.connect() as conn:
        attack(conn, vc.org_id, closed=False)
    if vc.engine.dialect.name == "sqlite":
        copy = backup.backup(vc, tmp_path / "open.db").path
        engine = create_engine(f"sqlite:///{copy}")
        with engine.connect() as conn:
            attack(conn, vc.org_id, closed=False)
        engine.dispose()
    campaign.close_campaign(vc, "c1")
    with vc.engine.connect() as conn:
        attack(conn, vc.org_id, closed=True)


LINK_STATE_FOR_SETUP = "ALTER TABLE links ADD COLUMN state VARCHAR(16) NOT NULL DEFAULT 'confirmed'"


def test_the_migration_leaves_no_trace_of_earlier_answers(
    own_url: str,  # noqa: F811 (the fixture imported above)
    smtp_server: Any,
) -> None:
    """A database at 0014 with an open campaign (reminder counts, extra tokens, spent
    invitations, a sealed answer) upgraded: the columns are gone, every invitation of
    the campaign holds as many tokens, the sealed answer is kept, and the links still
    work once."""
    from alembic import command

    from valuechain.store.database import _alembic_config, upgrade

    engine = make_engine(own_url, migrate=False, create=True)
    with engine.begin() as conn:
        cfg = _alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0014")
        # Today's code reads and writes a link's state (0018): lent to 0014 for the
        # set-up, taken back before the upgrade, which adds it for good.
        conn.exec_driver_sql(LINK_STATE_FOR_SETUP)
    vc = Valuechain(engine, "old", security=TEST_SECURITY, create=True)
    write_map_before_history(vc, small_map(6))
    campaign.create_campaign(vc, "c1", instrument="pulse", relationships=[("make", "pack")])
    assert campaign.invite(vc, "c1") == 6
    links = first_links(smtp_server, 6)
    payload = {
        "instrument": "pulse",
        "rater_id": "pack",
        "rated_id": "make",
        "submitted_on": "2026-12-01",
        "answers": [["need_now", "need", 4.0, None]],
        "comments": [],
        "importance": {},
    }
    with engine.begin() as conn:
        ids = conn.execute(text("SELECT id FROM invitations ORDER BY person_id")).scalars().all()
        conn.execute(
            text("UPDATE invitations SET reminders = 2, spent = :yes WHERE id = :id"),
            {"id": ids[0], "yes": True},
        )
        conn.execute(
            text("INSERT INTO invitation_tokens VALUES (:org, :h, :id)"),
            {"org": vc.org_id, "h": "f" * 64, "id": ids[1]},
        )
        conn.execute(
            text("INSERT INTO sealed_responses VALUES (:org, 'r1', 'c1', :p)"),
            {"org": vc.org_id, "p": json.dumps(payload)},
        )
        conn.exec_driver_sql("ALTER TABLE links DROP COLUMN state")
    upgrade(engine)
    with engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("invitations")}
        held = conn.execute(text("SELECT invitation_id FROM invitation_tokens")).scalars().all()
        sealed = conn.execute(text("SELECT * FROM sealed_responses")).mappings().all()
    assert not {"reminders", "reminded_on"} & columns
    assert sorted(Counter(held).values()) == [2] * 6
    assert [s["id"] for s in sealed] == ["r1"]
    token = links["pack01@example.org"]
    campaign.submit(vc, token, Submission(scores={"need_now": (3.0, None)}))
    with pytest.raises(campaign.LinkSpent):
        campaign.submit(vc, token, Submission(scores={"need_now": (3.0, None)}))
    campaign.close_campaign(vc, "c1")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM responses")).scalar_one() == 2
    engine.dispose()
