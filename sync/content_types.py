"""The media content types RoadWatch accepts (PROTOCOL §3.2), in one place.

The server's schemas and content sniffing use this tuple; the PWA's copy,
``pwa/js/content-types.js``, is checked against it by tests/test_content_types_js.py.
"""

from __future__ import annotations

ACCEPTED_CONTENT_TYPES: tuple[str, ...] = (
    "image/jpeg",
    "image/png",
    "image/heic",
    "image/heif",
    "video/mp4",
    "video/quicktime",
    "video/webm",
)
