"""Errors a user can cause; the edges turn them into clear messages, never tracebacks."""

from __future__ import annotations


class ValuechainError(Exception):
    """Base for every error an edge shows to its user as a message."""


class NotFound(ValuechainError):
    """A unit, result or other object named by the user does not exist."""
