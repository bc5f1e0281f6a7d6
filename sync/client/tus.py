"""Resumable upload of one queued media file (tus 1.0.0, PROTOCOL.md §3.5)."""

from __future__ import annotations

from collections.abc import Callable

from .http import NeedsAttention, OffsetConflict, ProgressReader, Transport, UploadGone, sha256_of
from .outbox import Outbox, QueuedMedia

# Bytes per PATCH. None streams the whole remainder in one request: an interrupted
# request then costs nothing, since the server keeps every byte that reached its disk.
DEFAULT_CHUNK: int | None = None


def upload_media(
    transport: Transport,
    outbox: Outbox,
    media: QueuedMedia,
    *,
    chunk_size: int | None = DEFAULT_CHUNK,
    checksum: bool = False,
    on_progress: Callable[[int, int], None] = lambda acked, size: None,
    on_sent: Callable[[int], None] = lambda n: None,
) -> None:
    """Upload until the server has every byte, resuming from its offset.

    Raises :class:`~sync.client.http.RetryLater` on a transient failure (the caller
    backs off and calls again: it resumes), or NeedsAttention.
    """
    url = media.upload_url
    while True:
        try:
            if url is None:
                url, offset = transport.create_upload(media.report_id, media.media_id, media.size)
                outbox.set_upload(media.media_id, url=url, acked=offset, received=False)
            else:
                offset = transport.head(url)
            on_progress(offset, media.size)
            if offset >= media.size:
                return
            with media.path.open("rb") as fh:
                while offset < media.size:
                    length = media.size - offset
                    if chunk_size:
                        length = min(length, chunk_size)
                    digest = sha256_of(fh, offset, length) if checksum else None
                    body = ProgressReader(fh, offset, length, on_sent)
                    offset = transport.patch(url, offset, body, digest)
                    outbox.set_upload(media.media_id, url=url, acked=offset, received=False)
                    on_progress(offset, media.size)
            return
        except UploadGone:
            url = None  # expired, removed, or reset after a failed verification
        except OffsetConflict:
            continue  # HEAD tells the truth
        except NeedsAttention as exc:
            if exc.code in ("checksum_mismatch", "size_mismatch"):
                # The server reset the upload: were the bytes damaged on the way, or
                # has the file on this disk changed since it was queued?
                with media.path.open("rb") as fh:
                    if sha256_of(fh, 0, media.size).hex() == media.sha256:
                        url = None
                        continue
            raise
