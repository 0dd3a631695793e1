"""The web app as an ASGI factory for several worker processes
(``valuechain serve --workers N``, or ``uvicorn valuechain.web.asgi:create --factory``):
each process opens the organisation the settings name itself, so nothing but the
database is shared between them."""

from __future__ import annotations

import sys

from fastapi import FastAPI

from valuechain.services.errors import ValuechainError
from valuechain.services.organisation import Valuechain
from valuechain.services.sso import SsoSettings
from valuechain.settings import SettingsError, settings
from valuechain.web.app import create_app


def create() -> FastAPI:
    """The app for ``VALUECHAIN_DATABASE_URL`` and ``VALUECHAIN_ORGANISATION``; a bad
    ``VALUECHAIN_*`` value, or a database holding other organisations but not this
    one, ends the process with one line on stderr."""
    try:
        configured = settings()
    except SettingsError as error:
        # The server would print a traceback; one line says what to fix.
        print(f"Error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    try:
        vc = Valuechain.serve(configured.database_url, organisation=configured.organisation)
    except ValuechainError as error:
        # uvicorn prints a traceback for anything but SystemExit, whose text it leaves
        # to the interpreter: one line on stderr, exit status 1.
        raise SystemExit(f"Error: {error}") from None
    return create_app(vc, sso=SsoSettings.from_environment())
