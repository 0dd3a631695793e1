"""Issue 14, item 4: one idempotency mechanism. Every state-changing route honours a
key (the API's header, a form's field); no table but ``idempotency_keys`` holds one;
an agreement change and a thanks replay through the one table."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from valuechain.edge.idempotency import CHANGING_METHODS, honours_keys
from valuechain.store.tables import Base
from valuechain.web.app import ROUTERS

# Repeating these is harmless and their answers hold session secrets (edge/idempotency).
EXEMPT = {
    ("POST", "/api/v1/session"),
    ("DELETE", "/api/v1/session"),
    ("POST", "/signin"),
    ("POST", "/signin/demo"),
    ("POST", "/signin/demo/as"),
    ("POST", "/signout"),
    ("POST", "/setup"),
}


def changing_routes() -> list[tuple[str, str, APIRoute]]:
    app = FastAPI()
    for router in ROUTERS:
        app.include_router(router)
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            for method in sorted((route.methods or set()) & CHANGING_METHODS):
                found.append((method, context.path, route))
    return found


def test_every_state_changing_route_honours_a_key() -> None:
    routes = changing_routes()
    assert len(routes) > 40
    missing = [
        f"{method} {path}"
        for method, path, route in routes
        if (method, path) not in EXEMPT and not honours_keys(route.endpoint)
    ]
    assert missing == []
    assert all(not honours_keys(r.endpoint) for m, p, r in routes if (m, p) in EXEMPT)


def test_no_table_but_the_one_holds_an_idempotency_key() -> None:
    holders = {
        table.name
        for table in Base.metadata.sorted_tables
        if any("idempot" in c.name or c.name == "fingerprint" for c in table.columns)
        or "idempot" in table.name
    }
    assert holders == {"idempotency_keys"}


@pytest.mark.parametrize("template", ["agree/agreements.html", "campaign/campaigns.html"])
def test_forms_that_change_something_carry_a_fresh_key(template: str) -> None:
    from valuechain.web.templating import TEMPLATES

    text = (TEMPLATES / template).read_text()
    assert text.count('name="csrf_token"') == text.count('name="idempotency_key"')
