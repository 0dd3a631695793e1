"""Which links a page shows: only those the signed-in person may follow.

A page asks ``may_visit(path)`` (a template global) before it links to another page.
The answer comes from the access rule the target route itself declares (its
``AccessRule`` dependencies, see edge/dependencies.py), so a link is shown exactly when
following it would not answer 403; no page keeps its own copy of the policy."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from fastapi.routing import iter_route_contexts
from jinja2 import pass_context
from starlette.requests import Request
from starlette.routing import Route, compile_path

from valuechain.domain.access import Action, Principal, allows_relationship
from valuechain.edge.dependencies import access_rules, current_valuechain
from valuechain.services.access import may


@lru_cache(maxsize=2048)
def _served(path: str) -> re.Pattern[str]:
    return compile_path(path)[0]


def _route(request: Request, path: str) -> tuple[Any, dict[str, str]] | None:
    """The GET route of this app serving ``path`` (its context: the dependencies a
    request really runs, the router's and the route's), with its path parameters."""
    for context in iter_route_contexts(request.app.routes):
        route = context.original_route
        if not isinstance(route, Route) or "GET" not in (route.methods or ()):
            continue
        # The route's path as served (with its router's prefix): the API's
        # ``/requests/{request_id}`` must not answer for the page ``/requests/all``.
        match = _served(context.path or route.path).match(path)
        if match is not None:
            return context, match.groupdict()
    return None


def visible(request: Request, path: str) -> bool:
    """Whether the principal of ``request`` may open ``path`` (a path of this app)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    found = _route(request, path.split("?", 1)[0])
    if principal is None or found is None:
        return False
    route, params = found
    vc = current_valuechain(request)
    # One page asks about many links to the same units: answer each question once.
    answers: dict[tuple[Action, str | None], bool] = request.state.__dict__.setdefault(
        "_may_visit", {}
    )

    def allowed(action: Action, unit_id: str | None) -> bool:
        if (action, unit_id) not in answers:
            answers[(action, unit_id)] = may(vc, principal, action, unit_id)
        return answers[(action, unit_id)]

    for rule in access_rules(route.dependant):
        if rule.action is None:
            continue
        if rule.relationship is not None:
            provider, customer = (params.get(name, "") for name in rule.relationship)
            if not allows_relationship(principal, rule.action, provider, customer):
                return False
            if rule.results and not (
                allowed(Action.VIEW_UNIT_RESULTS, provider)
                and allowed(Action.VIEW_UNIT_RESULTS, customer)
            ):
                return False
        elif not allowed(rule.action, params.get(rule.unit_param) if rule.unit_param else None):
            return False
    return True


@pass_context
def may_visit(context: Any, path: str) -> bool:
    """Template global: whether the page's viewer may follow a link to ``path``."""
    return visible(context["request"], path)
