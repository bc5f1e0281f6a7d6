"""Evidence from a bucket to the console, streamed (never a whole video in memory).

The filesystem store's files go through ``send_file``; a bucket's objects are read in
1 MiB pieces from S3 and passed on as they come, with one byte range honoured (video
seeking), the hash as the ETag.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Response, abort, request

from ..storage import BUFFER


def stream_blob(store: Any, sha256: str, mimetype: str) -> Response:
    """The blob ``sha256`` of an S3 store as a streamed response (404 when absent)."""
    size = store.blob_size(sha256)
    if size is None:
        abort(404)
    status, byte_range, length = 200, None, size
    wanted = request.range
    if wanted is not None and wanted.units == "bytes" and len(wanted.ranges) == 1:
        span = wanted.range_for_length(size)
        if span is None:
            return Response(status=416, headers={"Content-Range": f"bytes */{size}"})
        start, stop = span
        status, byte_range, length = 206, (start, stop - 1), stop - start
    body = store.open_blob(sha256, byte_range)
    if body is None:
        abort(404)

    def pieces() -> Iterator[bytes]:
        try:
            while data := body.read(BUFFER):
                yield data
        finally:
            body.close()

    response = Response(pieces(), status=status, mimetype=mimetype, direct_passthrough=True)
    response.headers["Content-Length"] = str(length)
    response.headers["Accept-Ranges"] = "bytes"
    if byte_range is not None:
        response.headers["Content-Range"] = f"bytes {byte_range[0]}-{byte_range[1]}/{size}"
    response.set_etag(sha256)
    return response
