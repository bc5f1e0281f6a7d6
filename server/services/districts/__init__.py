"""The database-backed router: which district (and police unit) a report belongs to.

Where the boundaries come from
    The ``districts`` and ``provinces`` tables, filled by ``flask --app wsgi districts
    import`` (:func:`import_boundaries`, in :mod:`.boundaries`). While no import has ever
    been made (a fresh database, every test database), the router uses the boundaries
    shipped in ``data/boundaries`` instead, so ingest routes reports without any manual
    step. The answers are the same either way when the shipped file is what was imported.

The in-memory index (:mod:`.index`, :mod:`.cache`)
    A :class:`server.district_index.DistrictIndex` is built once per process and boundary
    version and kept in a module-level cache. The version is the ``token`` of the latest
    ``district_imports`` row, read again at most every :data:`RECHECK_SECONDS` (1 s):
    an import is used at once by the process that made it, and by every other process
    within a second; an import that changes nothing keeps the token and the cache. The
    shipped default is shared with :meth:`DistrictIndex.load_default` when the
    tolerance is its default (2,000 m). Building the full index takes a few seconds,
    once per process (the first routed report or ``district`` lookup pays it).

Rules
    Those of :mod:`server.district_index`, recorded as ``reports.route_rule``:
    ``inside``, ``border`` (a point on a shared border goes to the lowest district code),
    ``province_nearest`` (a data gap inside a province: nearest district of that
    province), ``tolerance_nearest`` (outside every polygon but within
    ``ROUTING_TOLERANCE_M`` of a district, e.g. just off the coast) and ``unrouted``
    (``district_code`` NULL: far at sea, abroad, or deep in Quảng Ninh, which the data
    lacks). Unrouted reports wait in the queue of ``flask districts unrouted``
    (:mod:`.unrouted`) until an administrator places them
    (:func:`server.services.cases.route_by_hand`, rule ``by_hand``). Reports keep their
    district when boundaries are re-imported.

Which location is routed
    The report's own ``location`` (its ``source`` says gps, exif or manual); it is
    recorded as ``reports.route_location_source``. A received photo whose EXIF position
    differs does not re-route the report: the reporter chose the location, and a large
    difference is already flagged for the reviewer (``exif_location_mismatch``).

Boundary sets (issue 23)
    The routing areas are today's communes (``BOUNDARY_SET=2025``, the default; the
    shipped ``data/boundaries/vn_communes_2025.geojson.gz``), or the last set imported
    by ``flask boundaries import`` (:mod:`server.services.boundary_sets`), or, with
    ``BOUNDARY_SET=pre2025``, the historical districts (shipped or imported by
    ``flask districts import``). "District" in this package's names means a routing
    area: a commune of today's map. :func:`area_info` also knows the pre-2025 districts
    (names only), the history of reports routed before.

Police units (:mod:`.units`, :mod:`server.services.units`)
    The unit responsible for an area is the unit that covers it most recently
    (``unit_areas``), else its pre-2025 ``police_units`` row, else its own police:
    ``CA-<code>`` named "Công an phường Ba Đình" (:func:`default_unit`); an import creates those
    rows for new districts, and :func:`set_unit` edits them. A case keeps the unit it
    was given; :func:`set_unit` moves the district's open cases to the new unit (with a
    ``unit_changed`` history row). Lookups are remembered for :data:`RECHECK_SECONDS`.
"""

from .boundaries import ImportResult, import_boundaries
from .cache import RECHECK_SECONDS, invalidate
from .choices import ProvinceChoice, forward_choices
from .errors import RoutingError
from .geojson import read_geojson
from .index import (
    DEFAULT_DISTRICTS_PATH,
    DEFAULT_PROVINCES_PATH,
    area_info,
    boundary_token,
    current_index,
    current_set_id,
    district_info,
    district_ref,
    require_district,
    route_point,
    shipped_set,
    tolerance_m,
)
from .units import Unit, default_unit, set_unit, unit_for, unit_name
from .unrouted import unrouted_reports

__all__ = [
    "DEFAULT_DISTRICTS_PATH",
    "DEFAULT_PROVINCES_PATH",
    "RECHECK_SECONDS",
    "ImportResult",
    "ProvinceChoice",
    "RoutingError",
    "Unit",
    "area_info",
    "boundary_token",
    "current_set_id",
    "current_index",
    "default_unit",
    "district_info",
    "district_ref",
    "forward_choices",
    "import_boundaries",
    "invalidate",
    "read_geojson",
    "require_district",
    "route_point",
    "set_unit",
    "shipped_set",
    "tolerance_m",
    "unit_for",
    "unit_name",
    "unrouted_reports",
]
