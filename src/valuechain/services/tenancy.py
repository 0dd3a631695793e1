"""The organisations one database holds (a deployment may serve several): what jobs
that work per organisation iterate over."""

from __future__ import annotations

from sqlalchemy import Engine

from valuechain.services.organisation import Valuechain
from valuechain.services.transaction import reading
from valuechain.store.organisation import map_versions


def every_organisation(engine: Engine) -> list[Valuechain]:
    """An entry object for every organisation in the database, by key; read in one
    reading unit and returned as a list, so no unit stays open while jobs use them."""
    with reading(engine) as conn:
        slugs = sorted(map_versions(conn))
    return [Valuechain(engine, slug) for slug in slugs]
