"""Nearest district edges, in metres: the search behind the ``*_nearest`` routing rules.

Pure module (numpy and shapely), used by :class:`server.district_index.DistrictIndex`.
District edges are cut into chunks of at most :data:`CHUNK_SEGMENTS` segments held in
an ``STRtree``; distances are in metres under a local equirectangular projection centred
on the query point (``x = R·cos(lat0)·Δlon``, ``y = R·Δlat``), vectorised in numpy.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import shapely

EARTH_RADIUS_M = 6_371_008.8
M_PER_DEG = EARTH_RADIUS_M * math.pi / 180.0  # metres per degree of latitude

CHUNK_SEGMENTS = 16  # district edges per chunk in the nearest-search tree


class EdgeIndex:
    """District edges as segment arrays, grouped in chunks held in an STRtree.

    ``dgeoms`` are the district polygons in index order; results name districts by
    that index, and ties go to the lowest index. Searches start at ``tolerance_m``
    (at least 1 km).
    """

    def __init__(self, dgeoms: np.ndarray, tolerance_m: float) -> None:
        self.first_radius_m = max(tolerance_m, 1000.0)
        parts, part_d = shapely.get_parts(dgeoms, return_index=True)
        rings, ring_p = shapely.get_rings(parts, return_index=True)
        xy, ring_of = shapely.get_coordinates(rings, return_index=True)
        same = ring_of[:-1] == ring_of[1:]  # consecutive vertices of the same ring
        start = np.flatnonzero(same)
        seg_ring = ring_of[start]
        self.seg = np.column_stack([xy[start], xy[start + 1]])  # x0, y0, x1, y1
        seg_d = part_d[ring_p[seg_ring]].astype(np.int64)
        # Chunk number inside each ring, then global chunk ids (segments stay contiguous).
        first_of_ring = np.r_[True, seg_ring[1:] != seg_ring[:-1]]
        ring_start = np.flatnonzero(first_of_ring)
        pos = np.arange(seg_ring.size) - np.repeat(
            ring_start, np.diff(np.r_[ring_start, seg_ring.size])
        )
        new_chunk = first_of_ring | (pos % CHUNK_SEGMENTS == 0)
        self.chunk_start = np.flatnonzero(new_chunk)
        chunk_len = np.diff(np.r_[self.chunk_start, seg_ring.size])
        s = self.seg
        xmin = np.minimum.reduceat(np.minimum(s[:, 0], s[:, 2]), self.chunk_start)
        ymin = np.minimum.reduceat(np.minimum(s[:, 1], s[:, 3]), self.chunk_start)
        xmax = np.maximum.reduceat(np.maximum(s[:, 0], s[:, 2]), self.chunk_start)
        ymax = np.maximum.reduceat(np.maximum(s[:, 1], s[:, 3]), self.chunk_start)
        # Segments of each chunk, padded to CHUNK_SEGMENTS by repeating its last segment.
        pad = np.minimum(np.arange(CHUNK_SEGMENTS), chunk_len[:, None] - 1)
        self.chunk_seg = self.seg[self.chunk_start[:, None] + pad]  # (chunks, 16, 4)
        self.chunk_box = np.column_stack([xmin, ymin, xmax, ymax])
        self.chunk_d = seg_d[self.chunk_start]
        self.tree = shapely.STRtree(shapely.box(xmin, ymin, xmax, ymax))
        # Search limit for province_nearest: more than any distance within the data's extent
        # (plus slack for province polygons reaching beyond it).
        b = shapely.total_bounds(dgeoms)
        self.max_search_m = M_PER_DEG * math.hypot(b[2] - b[0], b[3] - b[1]) * 2 + 1e6

    def nearest(
        self,
        x: np.ndarray,
        y: np.ndarray,
        pts: np.ndarray,
        max_m: float,
        allowed: Callable[[np.ndarray, np.ndarray], np.ndarray] | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Nearest district edge within max_m metres (local equirectangular metres).

        ``allowed(point_index, district_index)`` optionally restricts the candidates.
        Searches radius r, 4r, 16r, ... up to max_m. A result at distance <= r is final:
        the degree-space query radius r / (M_PER_DEG * cos(lat)) can only over-select.
        Ties go to the lowest district index (= lowest code).
        """
        m = x.size
        out_idx = np.full(m, -1, np.int64)
        out_d = np.full(m, np.inf)
        kx = M_PER_DEG * np.maximum(np.cos(np.radians(y)), 1e-12)
        pending = np.arange(m)
        r = min(self.first_radius_m, max_m)
        while pending.size:
            px, py, pkx = x[pending], y[pending], kx[pending]
            qi, ci = self.tree.query(
                pts[pending], predicate="dwithin", distance=r / pkx * (1 + 1e-9) + 1e-12
            )
            if allowed is not None and qi.size:
                ok = allowed(pending[qi], self.chunk_d[ci])
                qi, ci = qi[ok], ci[ok]
            if qi.size:
                pt, dk, d = self._closest(qi, ci, px, py, pkx)
                ok = d <= r
                out_idx[pending[pt[ok]]] = dk[ok]
                out_d[pending[pt[ok]]] = d[ok]
                done = np.zeros(pending.size, bool)
                done[pt[ok]] = True
                pending = pending[~done]
            if r >= max_m:
                break
            r = min(r * 4.0, max_m)
        return out_idx, out_d

    def _closest(
        self, qi: np.ndarray, ci: np.ndarray, px: np.ndarray, py: np.ndarray, pkx: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(point, district, metres)`` of the nearest of the candidate chunks ``ci`` of
        each point ``qi`` (one row a point that has candidates).

        Chunks whose bounding box (a lower bound) is farther than some chunk's first
        vertex (an upper bound) are pruned before the per-segment distances.
        """
        box = self.chunk_box[ci]
        qx, qy, qk = px[qi], py[qi], pkx[qi]
        lo = np.hypot(
            np.maximum(np.maximum(box[:, 0] - qx, qx - box[:, 2]), 0) * qk,
            np.maximum(np.maximum(box[:, 1] - qy, qy - box[:, 3]), 0) * M_PER_DEG,
        )
        first = self.seg[self.chunk_start[ci]]
        hi = np.hypot((first[:, 0] - qx) * qk, (first[:, 1] - qy) * M_PER_DEG)
        hi_pt = np.full(px.size, np.inf)
        np.minimum.at(hi_pt, qi, hi)
        keep = lo <= hi_pt[qi]
        qi, ci = qi[keep], ci[keep]
        # Distance to each surviving chunk = min over its (padded) segments.
        d = segment_distance_m(self.chunk_seg[ci], px[qi, None], py[qi, None], pkx[qi, None]).min(
            axis=1
        )
        dk = self.chunk_d[ci]
        order = np.lexsort((dk, d, qi))
        pt, dk, d = qi[order], dk[order], d[order]
        head = np.r_[True, pt[1:] != pt[:-1]]
        return pt[head], dk[head], d[head]


def segment_distance_m(
    seg: np.ndarray, px: np.ndarray, py: np.ndarray, kx: np.ndarray
) -> np.ndarray:
    """Metres from points to segments (``seg[..., :4]`` = x0, y0, x1, y1; broadcasting),
    in the local equirectangular projection centred on each point (x scale ``kx``)."""
    ax = (seg[..., 0] - px) * kx
    ay = (seg[..., 1] - py) * M_PER_DEG
    bx = (seg[..., 2] - px) * kx
    by = (seg[..., 3] - py) * M_PER_DEG
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    t = np.divide(-(ax * dx + ay * dy), len2, out=np.zeros_like(len2), where=len2 > 0)
    # Use the vertex itself at the ends, so that two edges meeting at a shared vertex
    # give bit-identical distances (and the tie goes to the lowest code).
    cx = np.where(t <= 0, ax, np.where(t >= 1, bx, ax + t * dx))
    cy = np.where(t <= 0, ay, np.where(t >= 1, by, ay + t * dy))
    return np.hypot(cx, cy)
