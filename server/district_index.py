"""Route a reported position (lat, lon) to the district responsible for the place.

Pure module: no Flask, no database. The default data are the pre-2025 district (ADM2)
and province (ADM1) polygons shipped in ``data/boundaries/*.geojson.gz``; see
``data/boundaries/PROVENANCE.md`` for their source, licence and known defects (Quảng Ninh
is missing entirely; some provinces have areas no district covers).

Rules, tried in this order (``Route.rule``):

``inside``
    Exactly one district polygon covers the point (its interior, or its own edge where no
    other district touches, e.g. a coastline or the rim of a coverage gap).
``border``
    Two or more district polygons cover the point: it lies on a shared edge or vertex, or
    in one of the tiny overlaps present in the data. **Border rule:** the district with the
    lowest code wins. Codes are compared as strings, which for the zero-padded 3-digit GSO
    codes is the numeric order (``"001" < "002" < "760"``).
``province_nearest``
    No district covers the point, but a province polygon does (a coverage gap in the data,
    or a sliver where the province outline and its districts disagree): the nearest
    district *of that province*, however far. If several province polygons cover the
    point (they overlap by a few m² in places), the districts of all of them compete.
    Province polygons whose code has no district in the index are ignored.
``tolerance_nearest``
    Neither a district nor a province covers the point, but some district is within
    ``tolerance_m`` metres (inclusive; default 2,000 m): the nearest district. This catches
    points just offshore and GPS fixes just across a land border. It also means that a
    point inside the missing Quảng Ninh but within ``tolerance_m`` of a district of a
    neighbouring province goes to that district; points further inside are unrouted.
``unrouted``
    Anything else, and invalid input (NaN or infinite values, latitude outside
    [-90, 90], longitude outside [-180, 180]): ``district_code`` is ``None``.

Ties between equally near districts are broken by the lowest code, as for borders.

Distances (``Route.distance_m``) are in metres under a local equirectangular projection
centred on the query point: ``x = R·cos(lat0)·Δlon``, ``y = R·Δlat`` (radians, mean Earth
radius R = 6,371,008.8 m), and the distance to a district is the exact planar distance from
the point to the nearest edge of its polygon in that projection. Within a few tens of
kilometres this is within about 1 % of the WGS84 geodesic distance; it is only used to compare
candidates and against ``tolerance_m``. ``distance_m`` is ``0.0`` for ``inside`` and
``border`` and ``None`` for ``unrouted``.

Implementation: district and province polygons are prepared and held in shapely 2
``STRtree`` indexes; district edges are additionally cut into chunks of at most 16 segments
in a third ``STRtree`` for the nearest-district searches, which are vectorised in numpy
(:mod:`server.district_edges`). An optional lookup grid (default 0.01° cells;
:mod:`server.district_grid`) answers most points without GEOS: a cell that no district
boundary comes near and whose centre lies in exactly one district is wholly inside that
district; a cell that no district or province boundary comes near, that lies outside
every district and province, and that is provably more than ``tolerance_m`` from every
district edge is wholly unrouted. Every other point takes the exact path. ``route()``
and ``route_many()`` run the same code, so they always agree.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape

from .district_edges import EARTH_RADIUS_M, M_PER_DEG, EdgeIndex
from .district_grid import SLOW, build_grid

__all__ = [
    "DATA_DIR",
    "DEFAULT_PROPS",
    "EARTH_RADIUS_M",
    "M_PER_DEG",
    "RULES",
    "DistrictInfo",
    "DistrictIndex",
    "PROPS_2025",
    "PropertyNames",
    "Route",
]

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "boundaries"
DISTRICTS_FILE = "vn_adm2_districts_pre2025.geojson.gz"
PROVINCES_FILE = "vn_adm1_provinces_pre2025.geojson.gz"
# Today's map (since 1 July 2025): 34 provinces and their communes (xã, phường, đặc khu).
COMMUNES_2025_FILE = "vn_communes_2025.geojson.gz"
PROVINCES_2025_FILE = "vn_provinces_2025.geojson.gz"

# Rule names; the position in this tuple is the internal integer code.
RULES = ("unrouted", "inside", "border", "province_nearest", "tolerance_nearest")
_UNROUTED, _INSIDE, _BORDER, _PROVINCE, _TOLERANCE = range(5)


@dataclass(frozen=True)
class DistrictInfo:
    """A district of the index: its code and name, and its province's."""

    code: str
    name: str
    province_code: str
    province_name: str
    # Kind of area ("xã", "phường", "đặc khu"; "" when unknown) and its old names.
    kind: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Route:
    district_code: str | None
    rule: str
    distance_m: float | None = None


@dataclass(frozen=True)
class PropertyNames:
    """Names of the GeoJSON feature properties to read."""

    district_code: str = "adm2_code"
    district_name: str = "adm2_name"
    district_province_code: str = "adm1_code"
    district_province_name: str = "adm1_name"
    province_code: str = "adm1_code"
    province_name: str = "adm1_name"
    district_kind: str | None = None  # optional: "xã" | "phường" | "đặc khu"
    district_aliases: str | None = None  # optional: a list of old names


DEFAULT_PROPS = PropertyNames()
# The properties of the 2025 files (data/boundaries/PROVENANCE.md).
PROPS_2025 = PropertyNames(
    district_code="code",
    district_name="name",
    district_province_code="province_code",
    district_province_name="province_name",
    province_code="code",
    province_name="name",
    district_kind="type",
    district_aliases="aliases",
)


def _polygonal(geom: Any) -> shapely.Geometry:
    """Shapely geometry from a GeoJSON geometry dict, made valid, polygons only."""
    if not geom:
        raise ValueError("feature without geometry")
    g = shape(geom)
    if not shapely.is_valid(g):
        g = shapely.make_valid(g)
    parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        raise ValueError(f"geometry is not polygonal: {geom.get('type')!r}")
    return shapely.union_all(parts) if len(parts) > 1 else parts[0]


def _aliases(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if v)
    return ()


def _features(fc: dict) -> list[dict]:
    if not isinstance(fc, dict) or fc.get("type") != "FeatureCollection":
        raise ValueError("expected a GeoJSON FeatureCollection")
    return list(fc.get("features") or [])


class DistrictIndex:
    """Point-to-district routing over a set of district and province polygons.

    Build with :meth:`from_geojson` or :meth:`load_default`. Read-only after construction.
    """

    def __init__(
        self,
        districts: list[DistrictInfo],
        district_geoms: Sequence[shapely.Geometry],
        province_codes: list[str],
        province_geoms: Sequence[shapely.Geometry],
        tolerance_m: float,
        grid_cell_deg: float | None,
    ) -> None:
        if not districts:
            raise ValueError("no districts")
        if not (tolerance_m >= 0 and math.isfinite(tolerance_m)):
            raise ValueError("tolerance_m must be a finite number >= 0")
        self.tolerance_m = float(tolerance_m)
        # Districts are kept sorted by code, so "lowest code" == "lowest index".
        order = sorted(range(len(districts)), key=lambda i: districts[i].code)
        self._districts = [districts[i] for i in order]
        self._codes = np.array([d.code for d in self._districts] + [None], dtype=object)
        self._by_code = {d.code: d for d in self._districts}
        self._dgeoms = np.array([district_geoms[i] for i in order], dtype=object)
        shapely.prepare(self._dgeoms)
        self._dtree = shapely.STRtree(self._dgeoms)

        prov_ids: dict[str, int] = {}
        for d in self._districts:
            prov_ids.setdefault(d.province_code, len(prov_ids))
        self._n_prov = len(prov_ids)
        self._prov_codes = list(prov_ids)
        self._prov_names = {}
        for d in self._districts:
            self._prov_names.setdefault(d.province_code, d.province_name)
        self._dprov = np.array([prov_ids[d.province_code] for d in self._districts], np.int64)
        keep = [i for i, c in enumerate(province_codes) if c in prov_ids]
        self._pgeoms = np.array([province_geoms[i] for i in keep], dtype=object)
        self._pprov = np.array([prov_ids[province_codes[i]] for i in keep], np.int64)
        shapely.prepare(self._pgeoms)
        self._ptree = shapely.STRtree(self._pgeoms)

        self._edges = EdgeIndex(self._dgeoms, self.tolerance_m)
        # Warm up the lazily built point-in-polygon structures of the prepared geometries.
        for geoms in (self._dgeoms, self._pgeoms):
            if len(geoms):
                b = shapely.bounds(geoms)
                shapely.intersects_xy(geoms, b[:, 0], b[:, 1])
        self._grid: np.ndarray | None = None
        grid = None
        if grid_cell_deg is not None:
            grid = build_grid(self._dgeoms, self._pgeoms, self.tolerance_m, float(grid_cell_deg))
        if grid is not None:
            self._grid, self._grid_origin = grid.cells, (grid.x0, grid.y0)
            self._grid_cell = grid.cell_deg

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_geojson(
        cls,
        districts_fc: dict,
        provinces_fc: dict,
        props: PropertyNames = DEFAULT_PROPS,
        tolerance_m: float = 2000,
        *,
        grid_cell_deg: float | None = 0.01,
    ) -> DistrictIndex:
        """Build an index from two GeoJSON FeatureCollections of (Multi)Polygons.

        Features sharing a district code are merged. ``grid_cell_deg=None`` disables the
        lookup grid (every point takes the exact path; same answers, slower).
        """
        merged: dict[str, tuple[DistrictInfo, list[shapely.Geometry]]] = {}
        for f in _features(districts_fc):
            p = f.get("properties") or {}
            try:
                code = str(p[props.district_code])
                district = DistrictInfo(
                    code=code,
                    name=str(p[props.district_name]),
                    province_code=str(p[props.district_province_code]),
                    province_name=str(p[props.district_province_name]),
                    kind=str(p.get(props.district_kind) or "") if props.district_kind else "",
                    aliases=_aliases(p.get(props.district_aliases))
                    if props.district_aliases
                    else (),
                )
            except KeyError as e:
                raise ValueError(f"district feature lacks property {e}") from None
            geom = _polygonal(f.get("geometry"))
            if code in merged:
                merged[code][1].append(geom)
            else:
                merged[code] = (district, [geom])
        districts = [d for d, _ in merged.values()]
        dgeoms = [g[0] if len(g) == 1 else shapely.union_all(g) for _, g in merged.values()]

        pcodes: list[str] = []
        pgeoms: list[shapely.Geometry] = []
        for f in _features(provinces_fc):
            p = f.get("properties") or {}
            if props.province_code not in p:
                raise ValueError(f"province feature lacks property {props.province_code!r}")
            pcodes.append(str(p[props.province_code]))
            pgeoms.append(_polygonal(f.get("geometry")))
        return cls(districts, dgeoms, pcodes, pgeoms, tolerance_m, grid_cell_deg)

    @classmethod
    def load_default(cls) -> DistrictIndex:
        """The index over the shipped pre-2025 boundaries (built once, then cached)."""
        return _load_default_index()

    @classmethod
    def load_2025(cls) -> DistrictIndex:
        """The index over today's shipped communes (built once, then cached)."""
        return _load_2025_index()

    # ------------------------------------------------------------------ queries

    def district(self, code: str) -> DistrictInfo | None:
        return self._by_code.get(code)

    def districts(self) -> list[DistrictInfo]:
        """All districts, sorted by code."""
        return list(self._districts)

    def district_geometries(self) -> list[tuple[DistrictInfo, shapely.Geometry]]:
        """Each district with the (valid, merged) polygon the index routes with, by code."""
        return list(zip(self._districts, self._dgeoms.tolist(), strict=True))

    def province_geometries(self) -> list[tuple[str, str, shapely.Geometry]]:
        """``(code, name, outline)`` of each province, by code: its province polygon when
        the index has one, else the union of its districts."""
        own: dict[int, list[shapely.Geometry]] = {}
        for pid, geom in zip(self._pprov.tolist(), self._pgeoms.tolist(), strict=True):
            own.setdefault(pid, []).append(geom)
        out = []
        for pid, code in enumerate(self._prov_codes):
            parts = own.get(pid) or list(self._dgeoms[self._dprov == pid])
            geom = parts[0] if len(parts) == 1 else shapely.union_all(parts)
            out.append((code, self._prov_names[code], geom))
        return sorted(out, key=lambda t: t[0])

    def route(self, lat: float, lon: float) -> Route:
        """Route one point. Never raises for bad coordinates: they are ``unrouted``."""
        try:
            la, lo = float(lat), float(lon)
        except (TypeError, ValueError, OverflowError):
            return Route(None, RULES[_UNROUTED], None)
        idx, rule, dist = self._resolve(np.array([lo]), np.array([la]))
        if idx[0] < 0:
            return Route(None, RULES[_UNROUTED], None)
        return Route(self._districts[idx[0]].code, RULES[rule[0]], float(dist[0]))

    def route_many(self, lats: np.ndarray, lons: np.ndarray) -> list[str | None]:
        """District code (or ``None``) for each point; same answers as :meth:`route`."""
        return self._codes[self.route_indices(lats, lons)[0]].tolist()

    def route_indices(
        self, lats: np.ndarray, lons: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Vectorised routing with full detail.

        Returns ``(index, rule, distance_m)``: index into :meth:`districts` (-1 when
        unrouted), the rule as an index into ``RULES``, and the distance (NaN if unrouted).
        """
        la = np.asarray(lats, dtype=np.float64).ravel()
        lo = np.asarray(lons, dtype=np.float64).ravel()
        if la.shape != lo.shape:
            raise ValueError("lats and lons must have the same length")
        return self._resolve(lo, la)

    # ------------------------------------------------------------------ core

    def _resolve(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, ...]:
        n = lon.size
        idx = np.full(n, -1, np.int64)
        rule = np.zeros(n, np.int8)
        dist = np.full(n, np.nan)
        with np.errstate(invalid="ignore"):
            valid = (
                np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0)
            )
        todo = np.flatnonzero(valid)
        if self._grid is not None and todo.size:
            gx0, gy0 = self._grid_origin
            ny, nx = self._grid.shape
            fx = np.floor((lon[todo] - gx0) / self._grid_cell)
            fy = np.floor((lat[todo] - gy0) / self._grid_cell)
            on_grid = (fx >= 0) & (fx < nx) & (fy >= 0) & (fy < ny)
            todo = todo[on_grid]  # off the grid: farther than tolerance from everything
            cell = self._grid[fy[on_grid].astype(np.intp), fx[on_grid].astype(np.intp)]
            fast = cell >= 0
            hit = todo[fast]
            idx[hit] = cell[fast]
            rule[hit] = _INSIDE
            dist[hit] = 0.0
            todo = todo[cell == SLOW]
        if todo.size:
            self._resolve_exact(lon, lat, todo, idx, rule, dist)
        return idx, rule, dist

    def _resolve_exact(
        self,
        lon: np.ndarray,
        lat: np.ndarray,
        todo: np.ndarray,
        idx: np.ndarray,
        rule: np.ndarray,
        dist: np.ndarray,
    ) -> None:
        x, y = lon[todo], lat[todo]
        pts = shapely.points(x, y)
        # 1. Districts covering the point: bbox candidates, then prepared intersects.
        qi, gi = self._dtree.query(pts)
        hit = shapely.intersects_xy(self._dgeoms[gi], x[qi], y[qi])
        qi, gi = qi[hit], gi[hit]
        count = np.bincount(qi, minlength=todo.size)
        best = np.full(todo.size, np.iinfo(np.int64).max, np.int64)
        np.minimum.at(best, qi, gi)
        covered = count > 0
        sel = todo[covered]
        idx[sel] = best[covered]
        rule[sel] = np.where(count[covered] > 1, _BORDER, _INSIDE)
        dist[sel] = 0.0
        rest = np.flatnonzero(~covered)
        if not rest.size:
            return
        x, y, pts, todo = x[rest], y[rest], pts[rest], todo[rest]
        # 2. Province polygons covering the point.
        in_prov = np.zeros(todo.size, bool)
        if len(self._pgeoms):
            qi, pi = self._ptree.query(pts)
            hit = shapely.intersects_xy(self._pgeoms[pi], x[qi], y[qi])
            qi, pi = qi[hit], pi[hit]
            in_prov[qi] = True
        if in_prov.any():
            sub = np.flatnonzero(in_prov)
            local = np.full(todo.size, -1, np.int64)
            local[sub] = np.arange(sub.size)
            keys = np.unique(local[qi] * self._n_prov + self._pprov[pi])

            def allowed(p: np.ndarray, d: np.ndarray) -> np.ndarray:
                return np.isin(p * self._n_prov + self._dprov[d], keys)

            d_idx, d_m = self._edges.nearest(
                x[sub], y[sub], pts[sub], self._edges.max_search_m, allowed
            )
            found = d_idx >= 0
            out = todo[sub[found]]
            idx[out] = d_idx[found]
            rule[out] = _PROVINCE
            dist[out] = d_m[found]
        # 3. Outside every province: nearest district within tolerance.
        sub = np.flatnonzero(~in_prov)
        if sub.size:
            d_idx, d_m = self._edges.nearest(x[sub], y[sub], pts[sub], self.tolerance_m, None)
            found = d_idx >= 0
            out = todo[sub[found]]
            idx[out] = d_idx[found]
            rule[out] = _TOLERANCE
            dist[out] = d_m[found]


def _read_geojson_gz(path: Path) -> dict:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=1)
def _load_default_index() -> DistrictIndex:
    return DistrictIndex.from_geojson(
        _read_geojson_gz(DATA_DIR / DISTRICTS_FILE),
        _read_geojson_gz(DATA_DIR / PROVINCES_FILE),
    )


def has_2025_data() -> bool:
    return (DATA_DIR / COMMUNES_2025_FILE).is_file()


@lru_cache(maxsize=1)
def _load_2025_index() -> DistrictIndex:
    return DistrictIndex.from_geojson(
        _read_geojson_gz(DATA_DIR / COMMUNES_2025_FILE),
        _read_geojson_gz(DATA_DIR / PROVINCES_2025_FILE),
        PROPS_2025,
    )
