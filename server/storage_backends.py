"""The evidence store chosen by the settings: a folder (the default) or a bucket.

``STORAGE_URL`` unset (or ``file:///path``): :class:`server.storage.MediaStore` on
``MEDIA_ROOT`` (or that path). ``s3://bucket[/prefix]``: :class:`server.storage_s3.S3Store`
at ``S3_ENDPOINT_URL`` with ``S3_ACCESS_KEY_ID``/``S3_SECRET_ACCESS_KEY``/``S3_REGION``,
its local spool and lock files under ``MEDIA_ROOT``. boto3 is imported only then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Union
from urllib.parse import unquote, urlsplit

from .settings import Settings
from .storage import MediaStore

if TYPE_CHECKING:
    from .storage_s3 import S3Store

Store = Union[MediaStore, "S3Store"]


def open_store(settings: Settings) -> Store:
    """The evidence store the settings describe; ValueError for an unknown scheme."""
    url = (settings.storage_url or "").strip()
    root = settings.media_root or "instance/media"
    scheme = urlsplit(url).scheme if url else "file"
    if scheme == "file":
        path = unquote(urlsplit(url).path) if url else root
        return MediaStore(path or root, settings.media_quota_bytes)
    if scheme == "s3":
        from .storage_s3 import S3Store

        return S3Store(
            url,
            root,
            endpoint_url=settings.s3_endpoint_url,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            region=settings.s3_region,
            quota_bytes=settings.media_quota_bytes,
        )
    raise ValueError(f"STORAGE_URL: unknown scheme {scheme!r} (file:// or s3://)")
