"""Marshmallow schemas of the wire format, shared by the server and the Python client.

Input schemas are strict: unknown fields are rejected, numbers must be JSON numbers
(not strings or booleans), strings have length limits. Error messages never echo the
submitted value, so a rejected national ID is not written back into a response.
"""

from __future__ import annotations

import math
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

VEHICLE_CLASSES = ("car", "motorbike", "truck", "bus", "bicycle", "other")
LOCATION_SOURCES = ("gps", "exif", "manual")
REPORTER_KINDS = ("citizen", "officer")
CONTENT_TYPES = (
    "image/jpeg",
    "image/png",
    "image/heic",
    "image/heif",
    "video/mp4",
    "video/quicktime",
    "video/webm",
)
# Report statuses. awaiting_evidence -> submitted when every declared file is in;
# reviewers then move it to verified, rejected or needs_info.
STATUSES = ("awaiting_evidence", "submitted", "verified", "rejected", "needs_info")
MAX_MEDIA_PER_REPORT = 10
SHA256_HEX = r"^[0-9a-f]{64}$"


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


class LocationSchema(Schema):
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

    @validates_schema
    def _unique_media(self, data: dict[str, Any], **kwargs: Any) -> None:
        ids = [m["media_id"] for m in data.get("media", [])]
        if len(ids) != len(set(ids)):
            raise ValidationError("Each media_id may appear once.", field_name="media")


class ExifSchema(Schema):
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    altitude = fields.Float(allow_none=True)
    taken_at = fields.String(allow_none=True)
    make = fields.String(allow_none=True)
    model = fields.String(allow_none=True)
    orientation = fields.Integer(allow_none=True)


class EvidenceSchema(Schema):
    media_id = fields.String()
    sha256 = fields.String()
    size = fields.Integer()
    content_type = fields.String()
    received = fields.Boolean()
    exif = fields.Nested(ExifSchema, allow_none=True)


class DistrictRefSchema(Schema):
    code = fields.String()
    name = fields.String()
    province = fields.String()


class ReportOutSchema(Schema):
    """A report as the reporting device sees it: never the reporter's identity."""

    report_id = fields.String()
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
    case_id = fields.String(allow_none=True)
    received_at = fields.String()


class DeviceOutSchema(Schema):
    device_id = fields.String()
    token = fields.String()


class OfficerLoginSchema(Schema):
    """Body of ``POST /api/v1/officers/login`` (PROTOCOL §3.3a)."""

    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 1024))


class OfficerRefSchema(Schema):
    display_name = fields.String()


class OfficerDeviceOutSchema(DeviceOutSchema):
    """An officer's device token: used like any device token; reports sent with it are
    the officer's (``reporter_kind: officer``)."""

    officer = fields.Nested(OfficerRefSchema)


class ViolationSchema(Schema):
    code = fields.String()
    name_vi = fields.String()
    name_en = fields.String()
    vehicle_classes = fields.List(fields.String())
    vehicles_text = fields.String()
    legal_reference = fields.String()
    photographable = fields.Boolean()


class ChangeSchema(Schema):
    cursor = fields.String()
    report_id = fields.String()
    status = fields.String()
    reason_code = fields.String(allow_none=True)
    public_note = fields.String(allow_none=True)
    at = fields.String()


class ChangesSchema(Schema):
    """Body of ``GET /api/v1/changes``."""

    changes = fields.List(fields.Nested(ChangeSchema))
    next = fields.String()
    has_more = fields.Boolean()


class PushKeysSchema(Schema):
    p256dh = fields.String(required=True, validate=validate.Length(20, 200))
    auth = fields.String(required=True, validate=validate.Length(8, 100))


class PushSubscriptionSchema(Schema):
    """Body of ``PUT /api/v1/push/subscription``: the browser's PushSubscription JSON."""

    endpoint = fields.Url(required=True, schemes={"https", "http"}, require_tld=False,
                          validate=validate.Length(max=1024))
    keys = fields.Nested(PushKeysSchema, required=True)
    expirationTime = fields.Raw(load_default=None, allow_none=True)  # noqa: N815 (browser's name)
    lang = fields.String(load_default="vi", validate=validate.OneOf(("vi", "en")))


class ProblemSchema(Schema):
    """RFC 9457 problem details, as every error of the API is answered."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    code = fields.String()
    message = fields.Dict(keys=fields.String(), values=fields.String())
    instance = fields.String()
    errors = fields.Dict()
