"""The error of the case services."""

from __future__ import annotations


class CaseError(ValueError):
    """A case operation that cannot be carried out (unknown id, nothing to split ...)."""
