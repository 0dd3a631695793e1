"""Valuechain: internal customer service along the value chain."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from valuechain.services.organisation import Valuechain

__all__ = ["Valuechain", "__version__"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The entry object is imported on first use: it loads NumPy, SQLAlchemy and the
    # store, and `import valuechain.<anything>` (e.g. the CLI's --help) must not.
    if name == "Valuechain":
        from valuechain.services.organisation import Valuechain

        return Valuechain
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
