"""What every endpoint receives: the organisation the app was built for."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from valuechain.services.organisation import Valuechain


def current_valuechain(request: Request) -> Valuechain:
    """The :class:`Valuechain` stored on ``app.state.valuechain`` by the app factory."""
    vc: Valuechain = request.app.state.valuechain
    return vc


CurrentValuechain = Annotated[Valuechain, Depends(current_valuechain)]
