"""District outlines for the PWA: its map picker draws them (no tiles needed) and names
the place of a point offline, "Quận Ba Đình, Thành phố Hà Nội" (issue 14).

Every district of the routing index, simplified to about 200 m (Douglas-Peucker,
topology kept) with coordinates to 4 decimals: some 250 KB gzipped for the country,
built once per boundary version, gzipped once and answered with an ETag. The service
worker keeps the last copy for offline use. The words are a hint for the reporter; the
server routes every report with the exact boundaries.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
import weakref
from typing import Any

import shapely
from flask import Response

from sync.schemas import PlacesSchema

from ..services import districts
from ..settings import current_settings
from . import bp
from .cached_json import cached_json
from .operations import Reply, operation

SIMPLIFY_DEG = 0.002  # ~200 m
PRECISION_DEG = 1e-4  # ~10 m
TOLERANCE_M = 200

# Per routing index (one per boundary version): {tile settings: (json, gzip, etag)}.
_built: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], tuple[bytes, bytes, str]]] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def places(index: Any) -> dict[str, Any]:
    """The body for a routing index (pure: no request, no settings)."""
    out = []
    for info, geometry in index.district_geometries():
        simple = shapely.set_precision(
            shapely.simplify(geometry, SIMPLIFY_DEG, preserve_topology=True), PRECISION_DEG
        )
        if simple.is_empty:
            simple = shapely.set_precision(geometry.envelope, PRECISION_DEG)
        shape = shapely.geometry.mapping(simple)
        if shape["type"] not in ("Polygon", "MultiPolygon"):
            continue
        west, south, east, north = geometry.bounds
        out.append(
            {
                "code": info.code,
                "name": info.name,
                "province": info.province_name or "",
                "bbox": [round(west, 4), round(south, 4), round(east, 4), round(north, 4)],
                "type": shape["type"],
                "coordinates": json.loads(json.dumps(shape["coordinates"])),
            }
        )
    return {"tolerance_m": TOLERANCE_M, "districts": out}


def _encoded() -> tuple[bytes, bytes, str]:
    """The body as sent (JSON, gzip, ETag), built once per boundary version."""
    settings = current_settings()
    url, attribution = settings.map_tile_url.strip(), settings.map_tile_attribution
    index = districts.current_index()
    with _lock:
        versions = _built.setdefault(index, {})
        hit = versions.get((url, attribution))
        if hit is None:
            outlines = places(index)
            tiles = {"url": url, "attribution": attribution} if url else None
            digest = hashlib.sha256(
                json.dumps([outlines, tiles], separators=(",", ":")).encode()
            ).hexdigest()[:20]
            body = PlacesSchema().dump({"version": digest, "tiles": tiles, **outlines})
            raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            hit = (raw, gzip.compress(raw, 9, mtime=0), digest)
            versions[(url, attribution)] = hit
    return hit


@bp.get("/places")
@operation(
    operation_id="listPlaces",
    summary="District outlines for the map picker and place names offline",
    responses={
        200: Reply(
            "Outlines (gzip when accepted)",
            PlacesSchema,
            headers={"ETag": {"schema": {"type": "string"}}},
        ),
        304: Reply("Not modified (If-None-Match)"),
    },
)
def list_places() -> Response:
    return cached_json(*_encoded())
