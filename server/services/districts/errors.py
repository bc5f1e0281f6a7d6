"""The error of the district services."""

from __future__ import annotations


class RoutingError(ValueError):
    """A request the router cannot carry out (bad file, unknown district ...)."""
