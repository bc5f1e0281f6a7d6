"""Open311 GeoReport v2, read only: ``/open311/v2/services.{json,xml}``,
``/open311/v2/requests.{json,xml}`` and ``/open311/v2/requests/<id>.{json,xml}``.

What is published (and the location's precision) is :mod:`server.services.open311`'s
to say; this module parses the query, calls it and writes JSON or XML. Vietnamese by
default, English when ``Accept-Language`` prefers it. No authentication (open data);
``jurisdiction_id`` is accepted and ignored (one jurisdiction per server). Bad
parameters are a 400 problem+json naming the field, like the rest of the API.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, request

from .problems import ApiError, wants_english
from .services import open311

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

FORMATS = ("json", "xml")
# Open data: any site may read it; a minute of caching keeps crawlers cheap.
HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Cache-Control": "public, max-age=60",
    "Vary": "Accept-Language",
}


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ApiError("not_found", status=404)
    return fmt


def _lang() -> str:
    return "en" if wants_english() else "vi"


def _xml_value(parent: ET.Element, key: str, value: Any) -> None:
    child = ET.SubElement(parent, key)
    if value is None:
        return
    if isinstance(value, bool):
        child.text = "true" if value else "false"
    else:
        child.text = str(value)


def to_xml(root: str, item: str, records: list[dict[str, Any]]) -> bytes:
    """GeoReport v2's XML: ``<root><item><key>value</key>…</item>…</root>``."""
    top = ET.Element(root)
    for record in records:
        element = ET.SubElement(top, item)
        for key, value in record.items():
            _xml_value(element, key, value)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)


def _reply(fmt: str, root: str, item: str, records: list[dict[str, Any]]) -> Response:
    if fmt == "xml":
        resp = Response(to_xml(root, item, records), mimetype="text/xml")
    else:
        body = json.dumps(records, ensure_ascii=False)
        resp = Response(body, mimetype="application/json")
    resp.headers.update(HEADERS)
    resp.headers["Content-Language"] = _lang()
    return resp


def _query() -> open311.RequestQuery:
    try:
        query = open311.parse_query(request.args)
        open311.window(query)
    except open311.Open311Error as err:
        raise ApiError("invalid_query", errors={err.field: [str(err)]}) from None
    return query


@bp.get("/services.<fmt>")
def services(fmt: str) -> Response:
    """Every violation type as a service."""
    return _reply(_format(fmt), "services", "service", open311.services(_lang()))


@bp.get("/requests.<fmt>")
def requests(fmt: str) -> Response:
    """Cases by the standard filters: service_request_id, service_code, start_date,
    end_date, status; plus page and page_size (at most 1000)."""
    fmt = _format(fmt)
    return _reply(fmt, "service_requests", "request", open311.requests(_query(), _lang()))


@bp.get("/requests/<request_id>.<fmt>")
def one_request(request_id: str, fmt: str) -> Response:
    """One case as a service request, or 404."""
    fmt = _format(fmt)
    found = open311.requests(open311.RequestQuery(ids=(request_id[:36],)), _lang())
    if not found:
        raise ApiError("not_found", status=404)
    return _reply(fmt, "service_requests", "request", found)
