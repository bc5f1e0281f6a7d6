"""The console's map data: district boundaries as GeoJSON, places in words, tile settings.

The map of a case must work in a police station without internet. Its base layer is
therefore our own data: the boundary of the case's district (served here, same-origin,
from the boundaries the router uses) and the reports' points. A tile server is optional:
only when ``MAP_TILE_URL`` (a Leaflet URL template) is set does the page name one, with
``MAP_TILE_ATTRIBUTION``.

Boundaries are answered only for districts the user may see; any other code is 404, as
every other console lookup outside the user's districts (:mod:`.access`).
"""

from __future__ import annotations

import json
import threading
import weakref
from typing import Any

import shapely
from flask import abort, make_response, request
from werkzeug.wrappers import Response

from ..services import districts
from ..settings import current_settings
from . import bp
from .access import may_see_district
from .auth import current_user

# Douglas-Peucker tolerance in degrees (~11 m): invisible at the zoom a district fits in,
# and it halves the size of a typical urban district's outline.
SIMPLIFY_DEG = 1e-4
PRECISION_DEG = 1e-6  # coordinates kept to 6 decimals (~0.1 m)
MAX_AGE_SECONDS = 300  # boundaries change only with an import; a reload picks it up soon

# Simplified outlines, per routing index (each boundary version has its own index).
_outlines: weakref.WeakKeyDictionary[Any, dict[str, str | None]] = weakref.WeakKeyDictionary()
_outlines_lock = threading.Lock()


def place_words(code: str | None) -> str | None:
    """The place of an area in words, "Phường Ba Đình, Thành phố Hà Nội"; None if unknown."""
    info = districts.area_info(code)
    if info is None:
        return None
    return ", ".join(part for part in (info.name, info.province_name) if part)


def tile_layer() -> dict[str, str] | None:
    """``{"url", "attribution"}`` of the configured tile server, or None (no tiles)."""
    settings = current_settings()
    url = settings.map_tile_url.strip()
    if not url:
        return None
    return {"url": url, "attribution": settings.map_tile_attribution}


def _outline_json(code: str) -> str | None:
    """The district's polygon, simplified, as GeoJSON geometry text (cached per index)."""
    index = districts.current_index()
    with _outlines_lock:
        cached = _outlines.setdefault(index, {})
        if code not in cached:
            geometry = dict((d.code, g) for d, g in index.district_geometries()).get(code)
            if geometry is None:
                cached[code] = None
            else:
                simple = shapely.simplify(geometry, SIMPLIFY_DEG, preserve_topology=True)
                cached[code] = shapely.to_geojson(shapely.set_precision(simple, PRECISION_DEG))
        return cached[code]


def boundary_feature(code: str) -> dict[str, Any] | None:
    """A GeoJSON Feature of the district: simplified polygon, code, name, province, place."""
    info = districts.district_info(code)
    outline = _outline_json(code) if info is not None else None
    if info is None or outline is None:
        return None
    return {
        "type": "Feature",
        "properties": {
            "code": info.code,
            "name": info.name,
            "province": info.province_name,
            "place": place_words(code),
        },
        "geometry": json.loads(outline),
    }


@bp.route("/districts/<code>/boundary.geojson")
def district_boundary(code: str) -> Response:
    """The boundary of one of the user's districts (404 for any other code)."""
    user = current_user()
    if user is None or len(code) > 16 or not may_see_district(user, code):
        abort(404)
    feature = boundary_feature(code)
    if feature is None:
        abort(404)
    response = make_response(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    response.mimetype = "application/geo+json"
    response.headers["Cache-Control"] = f"private, max-age={MAX_AGE_SECONDS}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.add_etag()
    return response.make_conditional(request)


@bp.app_template_global()
def map_place(code: str | None) -> str | None:
    """Template helper: :func:`place_words`."""
    return place_words(code)


@bp.app_template_global()
def map_tiles() -> dict[str, str] | None:
    """Template helper: :func:`tile_layer`."""
    return tile_layer()
