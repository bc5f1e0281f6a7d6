"""Reading GeoJSON boundary files: districts or provinces keyed by their code."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import RoutingError


def read_geojson(path: str | Path) -> dict[str, Any]:
    """A GeoJSON file, gzip-compressed or not."""
    path = Path(path)
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RoutingError(f"{path}: not a readable GeoJSON file ({e})") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise RoutingError(f"{path}: expected a GeoJSON FeatureCollection")
    return data


def feature(props: dict[str, str], geometry_json: str) -> dict[str, Any]:
    """A GeoJSON feature of ``props`` and a geometry stored as JSON text."""
    return {"type": "Feature", "properties": props, "geometry": json.loads(geometry_json)}


def collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def _polygon_parts(geometry: Any, where: str) -> list[Any]:
    """Polygon coordinate arrays of a Polygon/MultiPolygon geometry."""
    if not isinstance(geometry, dict):
        raise RoutingError(f"{where}: feature without geometry")
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon" and isinstance(coords, list):
        return [coords]
    if kind == "MultiPolygon" and isinstance(coords, list):
        return list(coords)
    raise RoutingError(f"{where}: geometry must be a Polygon or MultiPolygon, not {kind!r}")


def parse_features(
    fc: dict[str, Any], props: Iterable[str], label: str
) -> dict[str, tuple[tuple[str, ...], str]]:
    """``{code: (other property values, geometry JSON)}``; the first prop is the code.

    Features sharing a code are merged into one MultiPolygon.
    """
    names = list(props)
    merged: dict[str, tuple[tuple[str, ...], list[Any]]] = {}
    for i, item in enumerate(fc.get("features") or []):
        where = f"{label} feature {i}"
        values = (item or {}).get("properties") or {}
        missing = [n for n in names if values.get(n) in (None, "")]
        if missing:
            raise RoutingError(f"{where}: missing property {missing[0]!r}")
        code, *rest = (str(values[n]).strip() for n in names)
        if len(code) > 16:
            raise RoutingError(f"{where}: code {code!r} is longer than 16 characters")
        parts = _polygon_parts(item.get("geometry"), where)
        if code in merged:
            merged[code][1].extend(parts)
        else:
            merged[code] = (tuple(v[:200] for v in rest), parts)
    out = {}
    for code, (rest, parts) in merged.items():
        geom = (
            {"type": "Polygon", "coordinates": parts[0]}
            if len(parts) == 1
            else {"type": "MultiPolygon", "coordinates": parts}
        )
        out[code] = (rest, json.dumps(geom, separators=(",", ":")))
    return out
