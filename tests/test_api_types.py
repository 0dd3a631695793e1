"""The API answers the service's own result types: every route of a converted
capability has a response model declared in ``valuechain.services`` (a TypedDict, a
dataclass or a Pydantic model there), or a generic container of such types, so mypy
checks a shape from the service to the HTTP answer and no API module restates it.
Pure introspection of the router: no database."""

from __future__ import annotations

import types
import typing
from importlib import import_module
from typing import Any, get_args, get_origin

import pytest
from fastapi.routing import APIRoute

# The API modules whose routes answer service types; a capability joins once converted.
CONVERTED = (
    "valuechain.api.request",
    "valuechain.api.agreement",
    "valuechain.api.measure",
    "valuechain.api.change",
    "valuechain.api.comment",
    "valuechain.api.campaign",
    "valuechain.api.connect",
    "valuechain.api.flow",
    "valuechain.api.partner",
    "valuechain.api.report",
    "valuechain.api.notification",
    "valuechain.api.map_structure",
)
# Types that are neither a capability's result nor restate one: the error bodies.
SHARED = ("valuechain.edge.errors",)


def _declared(tp: Any) -> list[type]:
    """The classes a response annotation is built from (``list[X]``, ``X | None`` and
    ``Annotated[X, ...]`` looked through; builtins left out)."""
    if tp is None or tp is type(None) or tp is Any:
        return []
    args = get_args(tp)
    if get_origin(tp) is not None or isinstance(tp, types.UnionType):
        if get_origin(tp) is typing.Annotated:
            args = args[:1]
        return [c for arg in args for c in _declared(arg)]
    if isinstance(tp, type) and tp.__module__ == "builtins":
        return []
    return [tp]


def _routes(module: str) -> list[APIRoute]:
    """The routes of one API module (its own router, as the app includes it)."""
    return [r for r in import_module(module).router.routes if isinstance(r, APIRoute)]


@pytest.mark.parametrize("module", CONVERTED)
def test_every_response_model_is_a_service_type(module: str) -> None:
    routes = _routes(module)
    assert routes, f"{module} has no routes"
    for route in routes:
        assert route.response_model is not None, f"{route.path}: no response model"
        found = _declared(route.response_model)
        assert found, f"{route.path}: {route.response_model!r} declares no shape"
        for declared in found:
            assert declared.__module__.startswith("valuechain.services.") or (
                declared.__module__ in SHARED
            ), f"{route.methods} {route.path} answers {declared.__module__}.{declared.__name__}"


@pytest.mark.parametrize("module", CONVERTED)
def test_a_converted_api_module_declares_no_answer_of_its_own(module: str) -> None:
    """What an API module may still declare itself is what a client sends (a request
    body): no class there is an answer, nor a documented error body."""
    answered = {
        declared
        for route in _routes(module)
        for tp in (route.response_model, *[r.get("model") for r in route.responses.values()])
        for declared in _declared(tp)
    }
    own = {c for c in answered if c.__module__ == module}
    assert own == set()


def test_the_workspace_types_name_the_stored_vocabularies() -> None:
    """The workspace's ``Literal`` types (what the API documents) are the words the
    database stores and the service checks: none missing, none extra."""
    from valuechain.services.partner.types import Alignment, EntryKind, Side
    from valuechain.store.tables import ALIGNMENTS, SIDES, WORKSPACE_KINDS

    assert get_args(Side) == SIDES
    assert get_args(EntryKind) == WORKSPACE_KINDS
    assert get_args(Alignment) == ALIGNMENTS
