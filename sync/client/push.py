"""Drive queued reports through the protocol: register, upload media, confirm."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .. import seal
from .http import Backoff, NeedsAttention, RetryLater, Transport
from .outbox import Outbox
from .tus import upload_media


class LoginRefused(Exception):
    """Signing in would orphan reports queued under the current token."""


@dataclass
class Pusher:
    outbox: Outbox
    transport: Transport
    backoff: Backoff = field(default_factory=Backoff)
    chunk_size: int | None = None
    checksum: bool = False
    say: Callable[[str], None] = lambda line: None
    bytes_sent: int = 0
    # Why the last push_all stopped with reports still queued (None: it did not).
    gave_up: RetryLater | None = None
    _acked: dict[str, int] = field(default_factory=dict)

    @classmethod
    def connect(cls, outbox: Outbox, server: str, **kw) -> Pusher:
        """A pusher for ``server``, registering this outbox as a device the first time."""
        token = outbox.get("token")
        transport = Transport(server, token)
        if token is None:
            device_id, token = transport.register()
            outbox.set("device_id", device_id)
            outbox.set("token", token)
        pusher = cls(outbox, transport, **kw)
        pusher.register_key()
        return pusher

    @classmethod
    def login(cls, outbox: Outbox, server: str, username: str, password: str, **kw) -> Pusher:
        """Sign this outbox in as an officer: its reports are then sent under the officer's
        name. Refused while reports queued under another token are still unsent (their
        ids belong to that token)."""
        if outbox.get("username") == username and outbox.get("token"):
            return cls.connect(outbox, server, **kw)
        if outbox.reports(("saved", "registering", "uploading")):
            raise LoginRefused("send the reports already queued before signing in")
        transport = Transport(server, None)
        body = transport.officer_login(username, password)
        outbox.set("device_id", body["device_id"])
        outbox.set("token", body["token"])
        outbox.set("username", username)
        outbox.set("officer_name", body["officer"]["display_name"])
        pusher = cls(outbox, transport, **kw)
        pusher.register_key()
        return pusher

    def register_key(self) -> None:
        """Register the outbox's signing key with its device, once per device (§3.1a).

        A device that holds another key (the key file was lost and made again) keeps
        working: the server flags its reports ``signature_invalid``; register a new
        device (a new outbox) to seal again."""
        device_id = self.outbox.get("device_id")
        if device_id is None or self.outbox.get("key_device_id") == device_id:
            return
        if self.transport.put_device_key(seal.public_spki(self.outbox.signing_key())):
            self.outbox.set("key_device_id", device_id)
        else:
            self.say("this device holds another signing key: reports will be flagged")

    def pending(self) -> list[str]:
        return [r["report_id"] for r in self.outbox.reports(("saved", "registering", "uploading"))]

    def push_all(self, max_attempts: int | None = None) -> dict[str, int]:
        """Push until every report is sent or needs attention; back off between tries.

        ``max_attempts`` bounds consecutive failed tries without progress (None: forever).
        A full server (507) or a rate limit (429) ends the run at once: what is queued
        stays queued (:attr:`gave_up` says why).
        """
        self.gave_up = None
        while True:
            pending = self.pending()
            if not pending:
                return self.outbox.counts()
            try:
                for report_id in pending:
                    self.push_one(report_id)
                    self.backoff.reset()
            except RetryLater as exc:
                stop = exc.kind in ("full", "rate_limited")
                if stop or (max_attempts is not None and self.backoff.attempt >= max_attempts):
                    self.gave_up = exc
                    return self.outbox.counts()
                delay = self.backoff.wait(exc.retry_after)
                self.say(f"  retry in {delay:.1f}s ({exc})")

    def push_one(self, report_id: str) -> None:
        """One report through registering → uploading → sent (or attention)."""
        try:
            self.outbox.set_state(report_id, "registering")
            stored = self.transport.put_report(report_id, self.outbox.body(report_id))
            received = {e["media_id"] for e in stored["evidence"] if e["received"]}
            self.outbox.set_state(report_id, "uploading")
            for media in self.outbox.media(report_id):
                if media.media_id in received:
                    self.outbox.set_upload(
                        media.media_id, url=media.upload_url, acked=media.size, received=True
                    )
                    continue
                with self._lock(media.media_id):
                    upload_media(
                        self.transport,
                        self.outbox,
                        media,
                        chunk_size=self.chunk_size,
                        checksum=self.checksum,
                        on_progress=lambda acked, size, m=media: self._progress(
                            m.path, acked, size
                        ),
                        on_sent=self._count,
                    )
            stored = self.transport.get_report(report_id)
            if all(e["received"] for e in stored["evidence"]):
                for media in self.outbox.media(report_id):
                    self.outbox.set_upload(
                        media.media_id, url=media.upload_url, acked=media.size, received=True
                    )
                self.outbox.set_state(report_id, "sent")
                self.say(f"sent {report_id}")
            else:
                raise RetryLater("server has not confirmed every file yet")
        except NeedsAttention as exc:
            self.outbox.set_state(report_id, "attention", exc.code)
            self.say(f"attention {report_id}: {exc.code}")

    def _count(self, n: int) -> None:
        self.bytes_sent += n

    def _progress(self, path: Path, acked: int, size: int) -> None:
        if acked > self._acked.get(str(path), -1):
            self.backoff.reset()  # the server acknowledged progress
        self._acked[str(path)] = acked
        pct = 100 * acked // size if size else 100
        self.say(f"  {path.name}: {pct}% ({acked / 1e6:.1f}/{size / 1e6:.1f} MB)")

    @contextmanager
    def _lock(self, media_id: str) -> Iterator[None]:
        """Never two uploads of one media item at once, across processes too."""
        lock_dir = self.outbox.path.parent / (self.outbox.path.name + ".locks")
        lock_dir.mkdir(exist_ok=True)
        fd = os.open(lock_dir / media_id, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RetryLater("another process is uploading this file") from None
            yield
        finally:
            os.close(fd)
