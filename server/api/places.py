"""Area outlines for the PWA: its map picker draws them (no tiles needed) and names
the place of a point offline, "Phường Ba Đình, Thành phố Hà Nội" (issues 14 and 23).

Every area of the routing index, simplified to about 200 m (Douglas-Peucker, topology
kept) with coordinates to 4 decimals, built once per boundary version, gzipped once and
answered with an ETag. A set of more than :data:`SPLIT_OVER` areas (today's 3,321
communes) is split to keep the phone's download small: ``/places`` then holds the
provinces' outlines (``provinces``, ``districts`` empty) and ``/places/<province
code>`` the areas of one province, fetched when the phone needs them. The service
worker keeps the copies for offline use. The words are a hint for the reporter; the
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

from sync.schemas import PlacesSchema, ProvincePlacesSchema

from ..problems import ApiError
from ..services import districts
from ..settings import current_settings
from . import bp
from .cached_json import cached_json
from .operations import Reply, operation

SIMPLIFY_DEG = 0.002  # ~200 m
PRECISION_DEG = 1e-4  # ~10 m
TOLERANCE_M = 200
SPLIT_OVER = 1000  # areas: above, the outlines are served per province
PROVINCE_SIMPLIFY_DEG = 0.005  # ~500 m: the provinces' outlines only say which to fetch
# Communes are small (a ward of a city is a few hundred metres across): one province's
# areas are simplified to ~75 m (the largest province ~0.1 MB gzipped).
AREA_SIMPLIFY_DEG = 0.0007
AREA_TOLERANCE_M = 75

# Per routing index (one per boundary version): {tile settings: (json, gzip, etag)}.
_built: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], tuple[bytes, bytes, str]]] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def _outline(
    code: str, name: str, province: str, geometry: Any, simplify_deg: float = SIMPLIFY_DEG
) -> dict[str, Any] | None:
    simple = shapely.set_precision(
        shapely.simplify(geometry, simplify_deg, preserve_topology=True), PRECISION_DEG
    )
    if simple.is_empty:
        simple = shapely.set_precision(geometry.envelope, PRECISION_DEG)
    shape = shapely.geometry.mapping(simple)
    if shape["type"] not in ("Polygon", "MultiPolygon"):
        return None
    west, south, east, north = geometry.bounds
    return {
        "code": code,
        "name": name,
        "province": province,
        "bbox": [round(west, 4), round(south, 4), round(east, 4), round(north, 4)],
        "type": shape["type"],
        "coordinates": json.loads(json.dumps(shape["coordinates"])),
    }


def places(index: Any, split_over: int = SPLIT_OVER) -> dict[str, Any]:
    """The body of ``/places`` for a routing index (pure: no request, no settings):
    split per province when the index has more than ``split_over`` areas."""
    if len(index.districts()) > split_over:
        provinces = [
            o
            for code, name, geometry in index.province_geometries()
            if (o := _outline(code, name, "", geometry, PROVINCE_SIMPLIFY_DEG)) is not None
        ]
        return {"tolerance_m": TOLERANCE_M, "districts": [], "provinces": provinces}
    return {"tolerance_m": TOLERANCE_M, "districts": _areas(index), "provinces": []}


def _areas(
    index: Any, province_code: str | None = None, simplify_deg: float = SIMPLIFY_DEG
) -> list[dict[str, Any]]:
    return [
        o
        for info, geometry in index.district_geometries()
        if province_code is None or info.province_code == province_code
        if (o := _outline(info.code, info.name, info.province_name or "", geometry, simplify_deg))
        is not None
    ]


def province_places(index: Any, province_code: str) -> dict[str, Any] | None:
    """The body of ``/places/<province code>``: the province's areas; None if it has none."""
    areas = _areas(index, province_code, AREA_SIMPLIFY_DEG)
    return {"tolerance_m": AREA_TOLERANCE_M, "districts": areas} if areas else None


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


def _encoded_province(code: str) -> tuple[bytes, bytes, str] | None:
    index = districts.current_index()
    with _lock:
        versions = _built.setdefault(index, {})
        hit = versions.get(("province", code))
        if hit is None:
            body = province_places(index, code)
            if body is None:
                return None
            digest = hashlib.sha256(json.dumps(body, separators=(",", ":")).encode()).hexdigest()[
                :20
            ]
            body = ProvincePlacesSchema().dump({"version": digest, **body})
            raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            hit = (raw, gzip.compress(raw, 9, mtime=0), digest)
            versions[("province", code)] = hit
    return hit


@bp.get("/places/<province_code>")
@operation(
    operation_id="listProvincePlaces",
    summary="The area outlines of one province (when /places is split per province)",
    responses={
        200: Reply(
            "Outlines (gzip when accepted)",
            ProvincePlacesSchema,
            headers={"ETag": {"schema": {"type": "string"}}},
        ),
        304: Reply("Not modified (If-None-Match)"),
    },
    problems=(404,),
)
def list_province_places(province_code: str) -> Response:
    hit = _encoded_province(province_code[:16]) if province_code.isalnum() else None
    if hit is None:
        raise ApiError("not_found")
    return cached_json(*hit)


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
