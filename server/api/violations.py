"""The violation catalogue, public and cacheable (the PWA keeps it for offline use).

With its everyday names, synonyms and fines it is some 60 KB of JSON, the same for every
caller until the next deploy: it is dumped through its schema once, gzipped once, and
answered with an ETag (a revalidation costs a 304).
"""

from __future__ import annotations

import gzip
import hashlib
import json
from functools import lru_cache

from flask import Response

from sync.schemas import ViolationsSchema

from .. import catalogue
from . import bp
from .cached_json import cached_json
from .operations import Reply, operation


@lru_cache(maxsize=1)
def _encoded() -> tuple[bytes, bytes, str]:
    """The body as sent: JSON, its gzip, and an ETag of the JSON."""
    body = ViolationsSchema().dump(
        {
            "violations": list(catalogue.violations()),
            "synonyms_version": catalogue.synonyms_version(),
        }
    )
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return raw, gzip.compress(raw, 9, mtime=0), hashlib.sha256(raw).hexdigest()[:20]


@bp.get("/violations")
@operation(
    operation_id="listViolations",
    summary="The violation catalogue (Decree 168/2024)",
    responses={
        200: Reply(
            "Catalogue (gzip when accepted)",
            ViolationsSchema,
            headers={
                "ETag": {"schema": {"type": "string"}},
                "Cache-Control": {"schema": {"type": "string"}, "example": "public, max-age=3600"},
            },
        ),
        304: Reply("Not modified (If-None-Match)"),
    },
)
def list_violations() -> Response:
    return cached_json(*_encoded())
