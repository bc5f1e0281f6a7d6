"""Marshmallow schemas of the wire format, shared by the server and the Python client.

Input schemas are strict: unknown fields are rejected, numbers must be JSON numbers
(not strings or booleans), strings have length limits. Error messages never echo the
submitted value, so a rejected national ID is not written back into a response.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    pre_dump,
    validate,
    validates_schema,
)

from .content_types import ACCEPTED_CONTENT_TYPES

VEHICLE_CLASSES = ("car", "motorbike", "truck", "bus", "bicycle", "other")
LOCATION_SOURCES = ("gps", "exif", "manual")
REPORTER_KINDS = ("citizen", "officer")
CONTENT_TYPES = ACCEPTED_CONTENT_TYPES  # the one list: sync/content_types.py
# Report statuses. awaiting_evidence -> submitted when every declared file is in;
# reviewers then move it to verified (then penalty_issued), rejected or needs_info.
# awaiting_evidence -> expired when no file started arriving in time (the server's
# REPORT_EVIDENCE_EXPIRY_HOURS); an expired report takes no file any more.
STATUSES = (
    "awaiting_evidence", "submitted", "verified", "penalty_issued", "rejected", "needs_info",
    "expired",
)  # fmt: skip
MAX_MEDIA_PER_REPORT = 10
SHA256_HEX = r"^[0-9a-f]{64}$"
BASE64URL_SIG = r"^[A-Za-z0-9_-]{86}$"  # 64 bytes, base64url without padding


class StrictFloat(fields.Float):
    """A float that must arrive as a JSON number: no strings, no booleans, no NaN."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        result = float(value)
        if not math.isfinite(result):
            raise self.make_error("invalid")
        return result


class StrictInt(fields.Integer):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class OutSchema(Schema):
    """A schema the server dumps responses through.

    Dumping a mapping with a key the schema has no field for is an error (it would
    silently vanish from the wire), and a field the data lacks is left out of the dump,
    which tests/test_wire_format.py notices: the data and the schema must agree.
    """

    @pre_dump
    def _no_undeclared_keys(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, Mapping):
            extra = set(data) - set(self.dump_fields)
            if extra:
                raise ValueError(f"{type(self).__name__} has no field for {sorted(extra)}")
        return data


class LocationSchema(OutSchema):
    lat = StrictFloat(required=True, validate=validate.Range(-90, 90))
    lon = StrictFloat(required=True, validate=validate.Range(-180, 180))
    accuracy_m = StrictFloat(
        load_default=None, allow_none=True, validate=validate.Range(0, 100_000)
    )
    source = fields.String(required=True, validate=validate.OneOf(LOCATION_SOURCES))


class ReporterSchema(Schema):
    """Who reports. Name, national ID and phone are optional and kept secret."""

    kind = fields.String(required=True, validate=validate.OneOf(REPORTER_KINDS))
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 120))
    # CCCD (12 digits) or the older CMND (9 digits).
    national_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^(\d{9}|\d{12})$", error="Must be 9 or 12 digits."),
    )
    phone = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^(\+84|0)\d{9,10}$", error="Must be a Vietnamese phone number."),
    )


class MediaDeclSchema(Schema):
    media_id = fields.UUID(required=True)
    sha256 = fields.String(
        required=True,
        validate=validate.Regexp(SHA256_HEX, error="Must be 64 lowercase hex digits."),
    )
    size = StrictInt(required=True, validate=validate.Range(min=1))
    content_type = fields.String(required=True, validate=validate.OneOf(CONTENT_TYPES))


class SignatureSchema(Schema):
    """A capture's seal (PROTOCOL §3.2a): the canonical manifest and its signature."""

    manifest = fields.String(required=True, validate=validate.Length(1, 8192))
    value = fields.String(
        required=True,
        validate=validate.Regexp(BASE64URL_SIG, error="Must be base64url of 64 bytes (r||s)."),
    )


class ReportInSchema(Schema):
    """Body of ``PUT /api/v1/reports/<report_id>``."""

    violation = fields.String(required=True, validate=validate.Length(1, 64))
    vehicle_class = fields.String(required=True, validate=validate.OneOf(VEHICLE_CLASSES))
    plate = fields.String(load_default="", validate=validate.Length(max=32))
    vehicle_description = fields.String(load_default="", validate=validate.Length(max=500))
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    captured_at = fields.AwareDateTime(required=True, format="iso")
    location = fields.Nested(LocationSchema, required=True)
    reporter = fields.Nested(ReporterSchema, required=True)
    media = fields.List(
        fields.Nested(MediaDeclSchema),
        required=True,
        validate=validate.Length(1, MAX_MEDIA_PER_REPORT),
    )
    signature = fields.Nested(SignatureSchema)  # absent: unsigned (flagged, not refused)

    @validates_schema
    def _unique_media(self, data: dict[str, Any], **kwargs: Any) -> None:
        ids = [m["media_id"] for m in data.get("media", [])]
        if len(ids) != len(set(ids)):
            raise ValidationError("Each media_id may appear once.", field_name="media")


class AnswerInSchema(Schema):
    """Body of ``PUT /api/v1/reports/<report_id>/answers/<answer_id>`` (PROTOCOL §3.10):
    the reporter's answer to a request for information, a short text and/or files."""

    text = fields.String(load_default="", validate=validate.Length(max=1000))
    media = fields.List(fields.Nested(MediaDeclSchema), load_default=list)

    @validates_schema
    def _something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("text", "").strip() and not data.get("media"):
            raise ValidationError("Give a text, files, or both.", field_name="text")
        ids = [m["media_id"] for m in data.get("media", [])]
        if len(ids) != len(set(ids)):
            raise ValidationError("Each media_id may appear once.", field_name="media")


class AnswerOutSchema(OutSchema):
    """An answer as stored: its files are evidence items of the report (``evidence``)."""

    answer_id = fields.String()
    report_id = fields.String()
    text = fields.String()
    media_ids = fields.List(fields.String())
    at = fields.String()


class ExifSchema(Schema):
    """EXIF of an evidence file as stored (``server.exif.ExifData.to_dict``)."""

    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    altitude = fields.Float(allow_none=True)
    taken_at = fields.String(allow_none=True)
    make = fields.String(allow_none=True)
    model = fields.String(allow_none=True)
    orientation = fields.Integer(allow_none=True)


class EvidenceSchema(OutSchema):
    media_id = fields.String()
    sha256 = fields.String()
    size = fields.Integer()
    content_type = fields.String()
    received = fields.Boolean()
    exif = fields.Nested(ExifSchema, allow_none=True)
    # The answer to a request for information this file came with; null: the report's own.
    answer_id = fields.String(allow_none=True)


class DistrictRefSchema(OutSchema):
    code = fields.String()
    name = fields.String()
    province = fields.String()


class PoliceUnitRefSchema(OutSchema):
    code = fields.String()
    name = fields.String()


class ReportOutSchema(OutSchema):
    """A report as the reporting device sees it: never the reporter's identity."""

    report_id = fields.String()
    report_code = fields.String()
    status = fields.String()
    violation = fields.String()
    vehicle_class = fields.String()
    plate = fields.String()
    plate_normalized = fields.String(allow_none=True)
    plate_kind = fields.String()
    vehicle_description = fields.String()
    note = fields.String()
    captured_at = fields.String()
    location = fields.Nested(LocationSchema)
    reporter_kind = fields.String()
    named_report = fields.Boolean()
    flags = fields.List(fields.String())
    evidence = fields.List(fields.Nested(EvidenceSchema))
    district = fields.Nested(DistrictRefSchema, allow_none=True)
    police_unit = fields.Nested(PoliceUnitRefSchema, allow_none=True)
    case_id = fields.String(allow_none=True)
    received_at = fields.String()
    # The reporter's answers to requests for information (PROTOCOL §3.10), oldest first.
    answers = fields.List(fields.Nested(AnswerOutSchema))


class DeviceOutSchema(OutSchema):
    device_id = fields.String()
    token = fields.String()


class JwkSchema(Schema):
    """An ECDSA P-256 public key as a JWK (what WebCrypto exports)."""

    class Meta:
        unknown = "exclude"  # key_ops, ext ... as WebCrypto adds them

    kty = fields.String(required=True, validate=validate.Equal("EC"))
    crv = fields.String(required=True, validate=validate.Equal("P-256"))
    x = fields.String(required=True, validate=validate.Length(1, 64))
    y = fields.String(required=True, validate=validate.Length(1, 64))


class DeviceKeyInSchema(Schema):
    """Body of ``PUT /api/v1/devices/key`` (PROTOCOL §3.1a): exactly one of the two."""

    spki = fields.String(validate=validate.Length(1, 512))
    jwk = fields.Nested(JwkSchema)

    @validates_schema
    def _one_form(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("spki" in data) == ("jwk" in data):
            raise ValidationError("Give the key as spki or as jwk.", field_name="public_key")


class DeviceKeyOutSchema(OutSchema):
    device_id = fields.String()
    key_id = fields.String()


class OfficerLoginSchema(Schema):
    """Body of ``POST /api/v1/officers/login`` (PROTOCOL §3.3a)."""

    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 1024))


class OfficerRefSchema(OutSchema):
    display_name = fields.String()


class OfficerDeviceOutSchema(DeviceOutSchema):
    """An officer's device token: used like any device token; reports sent with it are
    the officer's (``reporter_kind: officer``)."""

    officer = fields.Nested(OfficerRefSchema)


# Who a fine of the catalogue is for: a vehicle class of the driver, or a person.
FINE_PAYERS = (
    "car",
    "motorbike",
    "bicycle",
    "bus",
    "truck",
    "car_tractor",
    "heavy_vehicle",
    "motorbike_nonmotor",
    "car_passenger",
    "motorbike_passenger",
    "person",
    "spectator",
    "racer_moped",
    "racer_motor",
)


class FineSchema(OutSchema):
    """One clause of the decree that fines the violation: who, where, how much."""

    decree = fields.String(metadata={"example": "168/2024/NĐ-CP"})
    article = fields.Integer(metadata={"description": "Điều"})
    clause = fields.Integer(metadata={"description": "Khoản"})
    point = fields.String(allow_none=True, metadata={"description": "Điểm (a, b, đ, …)"})
    who = fields.String(
        validate=validate.OneOf(FINE_PAYERS),
        metadata={"description": "who is fined: the driver of a vehicle class, or a person"},
    )
    min_vnd = fields.Integer(allow_none=True)
    max_vnd = fields.Integer(allow_none=True)
    org_min_vnd = fields.Integer(
        allow_none=True, metadata={"description": "an organisation's fine, where it differs"}
    )
    org_max_vnd = fields.Integer(allow_none=True)
    per_excess_person = fields.Boolean(metadata={"description": "the range is per person"})
    confiscation = fields.Boolean(metadata={"description": "the vehicle is confiscated"})


class EvidenceItemSchema(OutSchema):
    code = fields.String(metadata={"description": "checklist item code (fixed vocabulary)"})
    vi = fields.String()
    en = fields.String()


class EvidenceChecklistSchema(OutSchema):
    """What the violation needs to be provable (data/evidence_checklist.json)."""

    items = fields.List(fields.Nested(EvidenceItemSchema))
    needs_video = fields.Boolean()
    min_photos = fields.Integer(allow_none=True)
    min_gap_minutes = fields.Integer(allow_none=True)


class ViolationSchema(OutSchema):
    code = fields.String()
    name_vi = fields.String()
    name_en = fields.String()
    vehicle_classes = fields.List(fields.String())
    vehicles_text = fields.String()
    legal_reference = fields.String()
    photographable = fields.Boolean()
    fines = fields.List(fields.Nested(FineSchema))
    short_vi = fields.String(metadata={"description": "everyday short name"})
    short_en = fields.String()
    synonyms_vi = fields.List(
        fields.String(), metadata={"description": "everyday and regional phrasings, for search"}
    )
    synonyms_en = fields.List(fields.String())
    evidence = fields.Nested(EvidenceChecklistSchema)


class ViolationsSchema(OutSchema):
    """Body of ``GET /api/v1/violations``."""

    violations = fields.List(fields.Nested(ViolationSchema))
    synonyms_version = fields.Integer(
        metadata={"description": "version of data/violation_synonyms.json"}
    )


class ChangeSchema(OutSchema):
    cursor = fields.String()
    report_id = fields.String()
    status = fields.String()
    reason_code = fields.String(allow_none=True)
    public_note = fields.String(allow_none=True)
    at = fields.String()


class ChangesSchema(OutSchema):
    """Body of ``GET /api/v1/changes``."""

    changes = fields.List(fields.Nested(ChangeSchema))
    next = fields.String()
    has_more = fields.Boolean()


class PushKeysSchema(Schema):
    p256dh = fields.String(required=True, validate=validate.Length(20, 200))
    auth = fields.String(required=True, validate=validate.Length(8, 100))


class PushSubscriptionSchema(Schema):
    """Body of ``PUT /api/v1/push/subscription``: the browser's PushSubscription JSON."""

    endpoint = fields.Url(
        required=True,
        schemes={"https", "http"},
        require_tld=False,
        validate=validate.Length(max=1024),
    )
    keys = fields.Nested(PushKeysSchema, required=True)
    expirationTime = fields.Raw(load_default=None, allow_none=True)  # noqa: N815 (browser's name)
    lang = fields.String(load_default="vi", validate=validate.OneOf(("vi", "en")))


class VapidKeySchema(OutSchema):
    """Body of ``GET /api/v1/push/vapid-public-key``."""

    public_key = fields.String()


class SubscribedSchema(OutSchema):
    """Body of ``PUT /api/v1/push/subscription``."""

    subscribed = fields.Boolean()


class ProblemSchema(Schema):
    """RFC 9457 problem details, as every error of the API is answered."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    code = fields.String()
    message = fields.Dict(keys=fields.String(), values=fields.String())
    instance = fields.String()
    errors = fields.Dict()


class PlaceSchema(OutSchema):
    code = fields.String(metadata={"description": "area (commune) or province code"})
    name = fields.String(metadata={"description": "its name, e.g. Phường Ba Đình"})
    province = fields.String(metadata={"description": "province name"})
    bbox = fields.List(fields.Float(), metadata={"description": "[west, south, east, north]"})
    type = fields.String(metadata={"enum": ["Polygon", "MultiPolygon"]})
    coordinates = fields.List(
        fields.Raw(), metadata={"description": "GeoJSON coordinates (lon, lat), simplified"}
    )


class TilesSchema(OutSchema):
    url = fields.String(metadata={"description": "a Leaflet URL template"})
    attribution = fields.String()


class PlacesSchema(OutSchema):
    """Body of ``GET /api/v1/places``: every district's outline, simplified, for the
    PWA's map picker and its place names offline."""

    version = fields.String(metadata={"description": "changes with the boundaries"})
    tolerance_m = fields.Integer(metadata={"description": "simplification, in metres"})
    tiles = fields.Nested(TilesSchema, allow_none=True)
    districts = fields.List(fields.Nested(PlaceSchema))
    provinces = fields.List(
        fields.Nested(PlaceSchema),
        metadata={
            "description": "when present, the areas are served per province: "
            "GET /api/v1/places/{code} for each of these outlines (districts is empty)"
        },
    )


class ProvincePlacesSchema(OutSchema):
    """Body of ``GET /api/v1/places/{province_code}``: one province's area outlines."""

    version = fields.String(metadata={"description": "changes with the boundaries"})
    tolerance_m = fields.Integer(metadata={"description": "simplification, in metres"})
    districts = fields.List(fields.Nested(PlaceSchema))
