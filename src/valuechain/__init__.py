"""Valuechain: internal customer service along the value chain."""

from valuechain.services.organisation import Valuechain

__all__ = ["Valuechain", "__version__"]
__version__ = "0.1.0"
