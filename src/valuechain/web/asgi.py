"""The web app as an ASGI factory for several worker processes
(``valuechain serve --workers N``, or ``uvicorn valuechain.web.asgi:create --factory``):
each process opens the organisation the settings name itself, so nothing but the
database is shared between them."""

from __future__ import annotations

import sys

from fastapi import FastAPI

from valuechain.services.organisation import Valuechain
from valuechain.services.sso import SsoSettings
from valuechain.settings import SettingsError, settings
from valuechain.web.app import create_app


def create() -> FastAPI:
    """The app for ``VALUECHAIN_DATABASE_URL`` and ``VALUECHAIN_ORGANISATION``; a bad
    ``VALUECHAIN_*`` value ends the process with one line on stderr and exit code 2."""
    try:
        configured = settings()
    except SettingsError as error:
        # The server would print a traceback; one line says what to fix.
        print(f"Error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    vc = Valuechain.open(configured.database_url, organisation=configured.organisation)
    return create_app(vc, sso=SsoSettings.from_environment())
