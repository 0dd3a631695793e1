"""Pages of a long list, as the API and the pages share them: an ``offset`` into the
list, a ``limit`` with a stated maximum, and the relative URL of the next page."""

from __future__ import annotations

from fastapi import Request


def next_link(
    request: Request,
    offset: int,
    limit: int,
    total: int,
    *,
    offset_param: str = "offset",
    limit_param: str | None = "limit",
) -> str | None:
    """The request's own path and query with the offset moved one page on (and the
    limit stated), or ``None`` when this page reaches the end of ``total`` items.
    Relative, so it stays right behind a proxy that rewrites the host."""
    if offset + limit >= total:
        return None
    params: dict[str, int] = {offset_param: offset + limit}
    if limit_param is not None:
        params[limit_param] = limit
    url = request.url.include_query_params(**params)
    return f"{url.path}?{url.query}"
