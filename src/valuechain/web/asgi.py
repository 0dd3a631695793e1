"""The web app as an ASGI factory for several worker processes
(``valuechain serve --workers N``): each process opens the organisation named by the
environment itself, so nothing but the database is shared between them."""

from __future__ import annotations

import os

from fastapi import FastAPI

from valuechain.services.organisation import DEFAULT_ORGANISATION, Valuechain
from valuechain.services.sso import SsoSettings
from valuechain.web.app import create_app


def create() -> FastAPI:
    """The app for ``VALUECHAIN_DATABASE_URL`` and ``VALUECHAIN_ORGANISATION``."""
    organisation = os.environ.get("VALUECHAIN_ORGANISATION", DEFAULT_ORGANISATION)
    vc = Valuechain.open(os.environ.get("VALUECHAIN_DATABASE_URL"), organisation=organisation)
    return create_app(vc, sso=SsoSettings.from_environment())
