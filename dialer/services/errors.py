"""Errors services raise; the API maps them to 404 / 409 / 422."""

from __future__ import annotations


class NotFound(LookupError):
    """The object does not exist (or is not visible to the caller)."""


class Conflict(ValueError):
    """The request clashes with stored state (a duplicate name, a finished complaint...)."""


class Invalid(ValueError):
    """The request is well-formed but its values make no sense."""
