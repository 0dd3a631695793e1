"""The web app as an ASGI factory for several worker processes
(``valuechain serve --workers N``): each process opens the organisation named by the
environment itself, so nothing but the database is shared between them."""

from __future__ import annotations

import os

from fastapi import FastAPI

from valuechain.services.errors import ValuechainError
from valuechain.services.organisation import DEFAULT_ORGANISATION, Valuechain
from valuechain.services.sso import SsoSettings
from valuechain.web.app import create_app


def create() -> FastAPI:
    """The app for ``VALUECHAIN_DATABASE_URL`` and ``VALUECHAIN_ORGANISATION``; a
    database or organisation that does not exist stops the process with one line."""
    organisation = os.environ.get("VALUECHAIN_ORGANISATION", DEFAULT_ORGANISATION)
    try:
        vc = Valuechain.open(os.environ.get("VALUECHAIN_DATABASE_URL"), organisation=organisation)
    except ValuechainError as error:
        # uvicorn prints a traceback for anything but SystemExit, whose text it leaves
        # to the interpreter: one line on stderr, exit status 1.
        raise SystemExit(f"Error: {error}") from None
    return create_app(vc, sso=SsoSettings.from_environment())
