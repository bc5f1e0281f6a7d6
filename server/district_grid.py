"""The lookup grid of :class:`server.district_index.DistrictIndex`: most points answered
without GEOS.

Pure module (numpy and shapely). The grid (default 0.01° cells) covers the districts'
and provinces' extent plus a margin. A cell that no district boundary comes near and
whose centre lies in exactly one district is wholly inside that district (the cell holds
the district's index); a cell that no district or province boundary comes near, that
lies outside every district and province, and that is provably more than
``tolerance_m`` from every district edge is wholly unrouted (:data:`UNROUTED`). Every
other cell is :data:`SLOW`: its points take the exact path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from .district_edges import M_PER_DEG

SLOW = -2  # grid cell value: take the exact path
UNROUTED = -1  # grid cell value: certainly unrouted
MAX_CELLS = 8_000_000
PURITY_CELLS = 1  # cells around every boundary vertex that may hold boundary


@dataclass(frozen=True)
class Grid:
    """``cells[iy, ix]``: a district index, :data:`UNROUTED` or :data:`SLOW`, for the
    cell whose lower-left corner is ``(x0 + ix·cell_deg, y0 + iy·cell_deg)``."""

    cells: np.ndarray
    x0: float
    y0: float
    cell_deg: float


@dataclass(frozen=True)
class _Layout:
    x0: float
    y0: float
    nx: int
    ny: int
    cs: float
    far_r: int  # Chebyshev cells from a district vertex beyond which nothing is in tolerance


def dilate(mask: np.ndarray, r: int) -> np.ndarray:
    """Chebyshev dilation of a 2-D boolean mask by r cells (separable max filter)."""
    out = mask.copy()
    for axis in (0, 1):
        src = out.copy()
        n = src.shape[axis]
        for s in range(1, min(r, n - 1) + 1):
            if axis == 0:
                out[s:, :] |= src[:-s, :]
                out[:-s, :] |= src[s:, :]
            else:
                out[:, s:] |= src[:, :-s]
                out[:, :-s] |= src[:, s:]
    return out


def build_grid(
    dgeoms: np.ndarray, pgeoms: np.ndarray, tolerance_m: float, cs: float
) -> Grid | None:
    """The lookup grid of prepared district and province polygons, with cells of about
    ``cs`` degrees (larger if the extent needs more than :data:`MAX_CELLS`); None when
    the extent reaches the poles (exact path only)."""
    if not cs > 0:
        raise ValueError("grid_cell_deg must be > 0")
    g = _layout(dgeoms, pgeoms, tolerance_m, cs)
    if g is None:
        return None
    d_vertex = _raster(dgeoms, g)
    p_vertex = _raster(pgeoms, g)
    d_clear = ~dilate(d_vertex, PURITY_CELLS)
    p_clear = ~dilate(p_vertex, PURITY_CELLS)
    d_count, d_first = _centres_in(dgeoms, d_clear, g)
    p_count, _ = _centres_in(pgeoms, p_clear, g)
    cells = np.full((g.ny, g.nx), SLOW, np.int32)
    inside = d_clear & (d_count == 1)
    cells[inside] = d_first[inside]
    far = d_clear & (d_count == 0) & p_clear & (p_count == 0) & ~dilate(d_vertex, g.far_r)
    cells[far] = UNROUTED
    return Grid(cells, g.x0, g.y0, g.cs)


def _layout(
    dgeoms: np.ndarray, pgeoms: np.ndarray, tolerance_m: float, cs: float
) -> _Layout | None:
    """Origin, size and cell of the grid, or None near the poles."""
    bounds = [shapely.total_bounds(dgeoms)]
    if len(pgeoms):
        bounds.append(shapely.total_bounds(pgeoms))
    bb = np.array(bounds)
    x0, y0 = bb[:, 0].min(), bb[:, 1].min()
    x1, y1 = bb[:, 2].max(), bb[:, 3].max()
    lat_max = max(abs(y0), abs(y1))
    while True:
        if lat_max >= 89.0:
            return None  # the argument below needs a usable cos(lat): exact path only
        # far_r: Chebyshev cell distance from every district vertex cell beyond which a
        # point is more than tolerance_m from every district edge (edges are segmentized
        # to <= cs/2, plus a cell of rounding slack), valid for |lat| <= lat_max.
        k_m = cs * M_PER_DEG * math.cos(math.radians(lat_max))
        far_r = int(tolerance_m // k_m) + 3
        margin = (far_r + 2) * cs
        gx0, gy0 = x0 - margin, y0 - margin
        nx = int(math.ceil((x1 + margin - gx0) / cs))
        ny = int(math.ceil((y1 + margin - gy0) / cs))
        grid_lat_max = max(abs(gy0), abs(gy0 + ny * cs))
        if grid_lat_max > lat_max:
            lat_max = grid_lat_max
            continue
        if nx * ny <= MAX_CELLS:
            return _Layout(gx0, gy0, nx, ny, cs, far_r)
        cs *= math.sqrt(nx * ny / MAX_CELLS) * 1.01


def _raster(geoms: np.ndarray, g: _Layout) -> np.ndarray:
    """Cells holding a vertex of the geometries' rings (segmentized to half a cell)."""
    mask = np.zeros((g.ny, g.nx), bool)
    if len(geoms):
        rings = shapely.get_rings(shapely.get_parts(geoms))
        xy = shapely.get_coordinates(shapely.segmentize(rings, g.cs / 2))
        ix = np.floor((xy[:, 0] - g.x0) / g.cs).astype(np.intp)
        iy = np.floor((xy[:, 1] - g.y0) / g.cs).astype(np.intp)
        mask[iy, ix] = True
    return mask


def _centres_in(geoms: np.ndarray, clear: np.ndarray, g: _Layout) -> tuple[np.ndarray, np.ndarray]:
    """For boundary-free cells: how many geoms cover the centre, and the first."""
    count = np.zeros((g.ny, g.nx), np.int32)
    first = np.full((g.ny, g.nx), -1, np.int32)
    for k, (bx0, by0, bx1, by1) in enumerate(shapely.bounds(geoms)):
        i0 = max(int((bx0 - g.x0) // g.cs), 0)
        j0 = max(int((by0 - g.y0) // g.cs), 0)
        i1 = min(int((bx1 - g.x0) // g.cs) + 1, g.nx)
        j1 = min(int((by1 - g.y0) // g.cs) + 1, g.ny)
        jj, ii = np.nonzero(clear[j0:j1, i0:i1])
        if not jj.size:
            continue
        jj += j0
        ii += i0
        hit = shapely.intersects_xy(geoms[k], g.x0 + (ii + 0.5) * g.cs, g.y0 + (jj + 0.5) * g.cs)
        jj, ii = jj[hit], ii[hit]
        count[jj, ii] += 1
        unset = first[jj, ii] < 0
        first[jj[unset], ii[unset]] = k
    return count, first
