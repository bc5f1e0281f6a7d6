"""What one process remembers of the router: indexes, boundary versions, police units.

Each entry is kept per database (its URL), so that several apps in one process (the
tests) never see each other's boundaries. A process trusts what it last read of the
boundary version and of a district's unit for :data:`RECHECK_SECONDS` before reading
it again: imports and unit edits made by this process apply at once, those of other
processes within this delay.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

from ...extensions import db

if TYPE_CHECKING:
    from ...district_index import DistrictIndex
    from .units import Unit

RECHECK_SECONDS = 1.0
CACHE_SIZE = 4  # routing indexes kept (one per boundary version and tolerance)

indexes: OrderedDict[tuple[str, float], DistrictIndex] = OrderedDict()
index_lock = threading.Lock()  # held while an index is built or remembered
tokens: dict[str, tuple[float, str | None]] = {}  # database url -> (read at, token)
units: dict[tuple[str, str], tuple[float, Unit | None]] = {}  # (url, district) -> unit


def db_key() -> str:
    """The key of the current database in these caches."""
    return str(db.engine.url)


def remember(key: tuple[str, float], index: DistrictIndex) -> None:
    """Keep ``index`` as the most recent one, dropping the oldest beyond
    :data:`CACHE_SIZE`. The caller holds :data:`index_lock`."""
    indexes[key] = index
    indexes.move_to_end(key)
    while len(indexes) > CACHE_SIZE:
        indexes.popitem(last=False)


def forget_units() -> None:
    """Forget the units remembered for the current database."""
    url = db_key()
    for key in [k for k in units if k[0] == url]:
        units.pop(key, None)


def invalidate() -> None:
    """Forget every cached index, version and unit (the next routing call rereads)."""
    with index_lock:
        indexes.clear()
    tokens.clear()
    units.clear()
