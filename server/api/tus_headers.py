"""The tus 1.0.0 headers: parsed into plain values for the upload service, and written
back from its answers (see sync/PROTOCOL.md §3.5)."""

from __future__ import annotations

import base64
import binascii
import re

from werkzeug.http import http_date

from ..problems import ApiError
from ..services.uploads import CHECKSUM_ALGORITHMS, UploadState

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = ("creation", "creation-with-upload", "checksum", "expiration", "termination")
OFFSET_OCTET_STREAM = "application/offset+octet-stream"

_DIGITS = re.compile(r"^[0-9]{1,19}$")


def parse_length(value: str | None, header: str) -> int:
    """A non-negative integer header (Upload-Length, Upload-Offset), or a 400 problem."""
    if value is None or not _DIGITS.match(value.strip()):
        raise ApiError("bad_request", errors={header: ["A non-negative integer is required."]})
    return int(value.strip())


def parse_metadata(header: str | None) -> dict[str, str]:
    """``Upload-Metadata``: ``key base64,key base64,key`` → ``{key: value}`` (UTF-8)."""
    out: dict[str, str] = {}
    for pair in (header or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, encoded = pair.partition(" ")
        try:
            out[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(
                "bad_request", errors={"Upload-Metadata": [f"The value of {key!r} is not base64."]}
            ) from None
    return out


def parse_checksum(header: str | None) -> tuple[str, bytes] | None:
    """``Upload-Checksum: <algorithm> <base64 digest>`` as ``(algorithm, digest)``, or
    None when absent or empty (an empty field carries no checksum)."""
    if header is None or not header.strip():
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    algorithm = algorithm.lower()
    factory = CHECKSUM_ALGORITHMS.get(algorithm)
    if factory is None:
        raise ApiError("checksum_algorithm_unsupported")
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        digest = b""
    if len(digest) != factory().digest_size:
        raise ApiError("bad_request", errors={"Upload-Checksum": ["Not a base64 digest."]})
    return algorithm, digest


def state_headers(state: UploadState) -> dict[str, str]:
    """Upload-Offset, Upload-Length and (while incomplete) Upload-Expires."""
    headers = {"Upload-Offset": str(state.offset), "Upload-Length": str(state.length)}
    if state.expires_at is not None:
        headers["Upload-Expires"] = http_date(state.expires_at)
    return headers
