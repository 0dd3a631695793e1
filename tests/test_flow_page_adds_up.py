"""The demo's flow page, read as a reader reads it: every figure follows from the
others (issue 20 item 5). The headline's deliveries and the throughput figure are the
same numbers, the throughput is the sum of what each paying customer receives (each
in its own unit: delivered pumps, spare parts kits…), a delivering stage's flow is
what it delivers, every input of an assembly carries the assembly's flow, and money
is revenue minus variable cost."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient

from tests.signin import make_account, sign_in
from valuechain import Valuechain
from valuechain.web.app import create_app

NUMBER = r"(\d[\d,]*(?:\.\d+)?)"


def _n(text: str) -> float:
    return float(text.replace(",", ""))


def _flow_page(vc: Valuechain) -> str:
    email = f"flow-{uuid.uuid4().hex[:8]}@example.org"
    make_account(vc, email)
    with TestClient(create_app(vc)) as client:
        sign_in(client, email)
        answer = client.get("/flow")
    assert answer.status_code == 200, answer.text
    return answer.text


def test_every_figure_on_the_demo_flow_page_adds_up(demo_vc: Valuechain) -> None:
    html = _flow_page(demo_vc)
    story = re.search(r'id="flow-story">(.*?)</p>', html, re.S)
    assert story
    headline = story.group(1)

    # The throughput card: "600 of 670 items a week", then one line per delivery.
    throughput = _n(re.search(rf'id="flow-throughput"><strong>{NUMBER}<', html).group(1))  # type: ignore[union-attr]
    demand = _n(re.search(rf'id="flow-demand"[^>]*>{NUMBER}<', html).group(1))  # type: ignore[union-attr]
    deliveries = {
        name.strip(): (_n(got), _n(wanted))
        for got, wanted, name in re.findall(
            rf"<li data-delivery=[^>]*>{NUMBER} of {NUMBER} ([^<]+)</li>", html
        )
    }
    assert set(deliveries) == {"delivered pumps", "spare parts kits", "warranty and repair service"}
    assert sum(got for got, _ in deliveries.values()) == throughput
    assert sum(wanted for _, wanted in deliveries.values()) == demand

    # The headline speaks of the same deliveries and the same total.
    for name, (got, wanted) in deliveries.items():
        assert f"{got:,.0f} of {wanted:,.0f} {name}" in headline, (name, headline)
    assert f"{throughput:,.0f} of {demand:,.0f} items of all kinds a week" in headline

    # The stage table: flow per stage, in the stage's own items.
    flows = {
        stage: _n(value)
        for stage, value in re.findall(
            rf'<td data-stage="([^"]+)">.*?<td class="num" data-flow="[^"]*">{NUMBER}', html, re.S
        )
    }
    assert flows["delivered-pumps"] == deliveries["delivered pumps"][0]
    assert flows["spare-parts-kits"] == deliveries["spare parts kits"][0]
    assert flows["warranty-service"] == deliveries["warranty and repair service"][0]
    # A pump takes one steel bar and one motor controller: both suppliers carry what
    # receiving passes on (the motor controllers showed "0 of 800" beside 450 pumps).
    assert flows["steel-bar-stock"] == flows["received-materials"] == 450
    assert flows["motor-electronics"] == flows["received-materials"]
    assert "(not needed today)" not in html

    money = {
        key: _n(value)
        for key, value in re.findall(rf'id="money-(\w+)" data-money="[^"]*">{NUMBER}<', html)
    }
    assert money["throughput"] == money["revenue"] - money["cost"]
