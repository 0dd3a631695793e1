"""What the load test's simulated people do (run by ``python -m bench.load``).

Each simulated person signs in once through the API and then, with a pause of 0.5–2 s
between steps, mixes page views (the unit, its survey dashboard, flow, relationships,
report), API reads, workspace notes, survey answers and requests. The accounts and the
survey links come from the environment (``VC_LOAD_ACCOUNTS``, ``VC_LOAD_TOKENS``,
written by bench/load.py).

* Survey submits: every simulated person takes its own links from the pool (each
  link is opened and answered once, as a respondent does, with no sign-in); when the
  pool is used up the person stops answering rather than reuse a link.
* Requests: a person files a request from its unit to one of the unit's providers;
  a person of the provider unit takes it from that unit's queue and moves it along
  (ack, start, resolve: the provider side acts), then the customer side says thank
  you. Each request is handled by one person at a time, as in an inbox where
  someone picks the ticket up, so no two people race on one request.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from collections import defaultdict, deque
from typing import Any

from locust import HttpUser, between, task

ACCOUNTS: list[dict[str, Any]] = json.loads(os.environ.get("VC_LOAD_ACCOUNTS", "[]"))
TOKENS: deque[str] = deque(json.loads(os.environ.get("VC_LOAD_TOKENS", "[]")))
UNITS = {a["unit"] for a in ACCOUNTS}
_next = itertools.count()
_titles = itertools.count(1)
# Requests waiting for the provider unit to pick them up; resolved ones waiting for
# the customer unit's thanks (gevent: a deque's pop is atomic between greenlets).
INBOX: dict[str, deque[str]] = defaultdict(deque)
RESOLVED: dict[str, deque[str]] = defaultdict(deque)
STEPS = ("ack", "start", "resolve")


class Person(HttpUser):
    """A lead of a demo unit, going about their day."""

    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.account = ACCOUNTS[next(_next) % len(ACCOUNTS)]
        answer = self.client.post(
            "/api/v1/session",
            json={"email": self.account["email"], "password": self.account["password"]},
            name="api: sign in",
        )
        self.client.headers["Authorization"] = f"Bearer {answer.json()['token']}"
        self.unit = self.account["unit"]
        self.pairs = self.account["pairs"]
        # The providers this unit asks for work that also have someone to answer.
        self.providers = sorted({p for p, c in self.pairs if c == self.unit and p in UNITS})
        self.handling: tuple[str, int] | None = None  # (request id, next step)

    # -- pages ---------------------------------------------------------------------------

    @task(4)
    def unit_page(self) -> None:
        self.client.get(f"/units/{self.unit}", name="page: unit")

    @task(3)
    def dashboard_page(self) -> None:
        self.client.get(f"/units/{self.unit}/dashboard", name="page: dashboard")

    @task(2)
    def flow_page(self) -> None:
        self.client.get("/flow", name="page: flow")

    @task(2)
    def relationship_page(self) -> None:
        provider, customer = random.choice(self.pairs)
        self.client.get(f"/relationships/{provider}/{customer}", name="page: relationship")

    @task(1)
    def report_page(self) -> None:
        self.client.get(f"/units/{self.unit}/report", name="page: unit report")

    # -- API reads -----------------------------------------------------------------------

    @task(4)
    def api_scores(self) -> None:
        self.client.get(f"/api/v1/units/{self.unit}/scores", name="api: scores")

    @task(3)
    def api_unit(self) -> None:
        self.client.get(f"/api/v1/units/{self.unit}", name="api: unit")

    @task(2)
    def api_customers(self) -> None:
        self.client.get(f"/api/v1/units/{self.unit}/customers", name="api: customers")

    @task(2)
    def api_inbox(self) -> None:
        self.client.get(f"/api/v1/units/{self.unit}/inbox", name="api: inbox")

    # -- writes --------------------------------------------------------------------------

    @task(1)
    def write_workspace(self) -> None:
        provider, customer = random.choice(self.pairs)
        self.client.post(
            f"/api/v1/relationships/{provider}/{customer}/workspace",
            json={"kind": "need", "text": f"Load test note {random.randrange(10**6)}"},
            name="api: workspace write",
        )

    @task(3)
    def answer_survey(self) -> None:
        """Open one unused survey link and answer every rated item (no sign-in)."""
        if not TOKENS:
            return
        token = TOKENS.popleft()
        # A respondent is nobody signed in: requests drops a header set to None.
        headers: dict[str, Any] = {"Authorization": None}
        form = self.client.get(f"/api/v1/survey/{token}", headers=headers, name="survey: open")
        if not form.ok:
            return
        answers = [
            {
                "item": item["item"],
                "score": random.randint(item["scale_min"], item["scale_max"]),
                **(
                    {"expectation": random.randint(item["scale_min"], item["scale_max"])}
                    if item.get("expectation")
                    else {}
                ),
            }
            for item in form.json()["items"]
            if item["scale_min"] is not None
        ]
        self.client.post(
            f"/api/v1/survey/{token}",
            json={"answers": answers, "comment": "Load test answer"},
            headers=headers,
            name="survey: submit",
        )

    @task(2)
    def file_request(self) -> None:
        """Ask one of this unit's providers for something."""
        if not self.providers:
            return
        provider = random.choice(self.providers)
        answer = self.client.post(
            "/api/v1/requests",
            json={
                "provider": provider,
                "title": f"Load test request {next(_titles)}",
                "body": "Please have a look.",
                "priority": random.choice(["low", "normal", "high"]),
            },
            name="request: file",
        )
        if answer.status_code == 201:
            INBOX[provider].append(answer.json()["id"])

    @task(4)
    def move_request(self) -> None:
        """As the provider, take the next request of the unit's inbox one step along;
        as the customer, thank for a resolved one."""
        if self.handling is None and INBOX[self.unit]:
            self.handling = (INBOX[self.unit].popleft(), 0)
        if self.handling is not None:
            request_id, step = self.handling
            verb = STEPS[step]
            answer = self.client.post(
                f"/api/v1/requests/{request_id}/events",
                json={"verb": verb, "note": f"Load test {verb}"},
                name=f"request: {verb}",
            )
            if not answer.ok or step + 1 == len(STEPS):
                self.handling = None
                if answer.ok:
                    RESOLVED[answer.json()["customer_id"]].append(request_id)
            else:
                self.handling = (request_id, step + 1)
            return
        if RESOLVED[self.unit]:
            request_id = RESOLVED[self.unit].popleft()
            self.client.post(
                f"/api/v1/requests/{request_id}/thanks",
                json={"note": "Thank you!"},
                name="request: thanks",
            )
