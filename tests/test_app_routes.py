"""The app factory shares one prepared, checked copy of its routers' routes between
apps, and still refuses a route without an access rule."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import APIRouter

from valuechain import Valuechain
from valuechain.web import app as web_app
from valuechain.web.app import RouteWithoutAccessRule, create_app


@pytest.fixture
def fresh_preparation() -> Iterator[None]:
    """Forget the prepared routes before and after the test, so a changed router set
    is prepared (and checked) again and later tests see the real one."""
    web_app._prepared_routes.cache_clear()
    yield
    web_app._prepared_routes.cache_clear()


@pytest.mark.usefixtures("fresh_preparation")
def test_an_unguarded_route_in_the_routers_stops_every_app(
    vc: Valuechain, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = APIRouter()

    @extra.get("/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    monkeypatch.setattr(web_app, "ROUTERS", (*web_app.ROUTERS, extra))
    for _ in range(2):  # a refusal is not remembered as a success
        with pytest.raises(RouteWithoutAccessRule, match="/forgotten"):
            create_app(vc)


def test_apps_share_routes_but_not_what_is_added_later(vc: Valuechain) -> None:
    first, second = create_app(vc), create_app(vc)
    shared = web_app._prepared_routes()
    assert shared
    for app in (first, second):
        assert [r for r in app.routes if any(r is s for s in shared)] == list(shared)

    @first.get("/only-first")
    def only_first() -> dict[str, str]:
        return {}

    paths = {getattr(route, "path", None) for route in second.routes}
    assert "/only-first" not in paths
    assert first.routes[-1] is not second.routes[-1]


def test_overriding_a_dependency_is_refused_loudly(vc: Valuechain) -> None:
    app = create_app(vc)
    with pytest.raises(TypeError):
        app.dependency_overrides[create_app] = create_app  # type: ignore[index]
