"""What the load test's simulated people do (run by ``python -m bench.load``).

Each simulated person signs in once through the API and then, with a pause of 0.5–2 s
between steps, mixes page views, API reads and writes. The accounts come from the
environment (``VC_LOAD_ACCOUNTS``, written by bench/load.py)."""

from __future__ import annotations

import itertools
import json
import os
import random
from typing import Any

from locust import HttpUser, between, task

ACCOUNTS: list[dict[str, Any]] = json.loads(os.environ.get("VC_LOAD_ACCOUNTS", "[]"))
_next = itertools.count()


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

    @task(4)
    def unit_page(self) -> None:
        self.client.get(f"/units/{self.unit}", name="page: unit")

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

    @task(4)
    def api_scores(self) -> None:
        self.client.get(f"/api/v1/units/{self.unit}/scores", name="api: scores")

    @task(3)
    def api_unit(self) -> None:
        self.client.get(f"/api/v1/units/{self.unit}", name="api: unit")

    @task(2)
    def api_customers(self) -> None:
        self.client.get(f"/api/v1/units/{self.unit}/customers", name="api: customers")

    @task(1)
    def write_workspace(self) -> None:
        provider, customer = random.choice(self.pairs)
        self.client.post(
            f"/api/v1/relationships/{provider}/{customer}/workspace",
            json={"kind": "need", "text": f"Load test note {random.randrange(10**6)}"},
            name="api: workspace write",
        )
