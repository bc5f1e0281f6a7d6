"""Why a service refuses: domain exceptions, with no HTTP in them.

Services raise these; :mod:`server.problems` maps each class to a problem code, an HTTP
status and headers (such as ``Retry-After``) in one table, and answers with
problem+json. ``details`` are facts the client is told: in the problem's body (e.g. the
``expected`` and ``received`` sizes), or, for the names in
:data:`server.problems.DETAIL_HEADERS`, in headers (an upload's offset and expiry).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every refusal a service makes for a reason of the domain."""

    def __init__(self, **details: Any) -> None:
        super().__init__(type(self).__name__)
        self.details: dict[str, Any] = {k: v for k, v in details.items() if v is not None}


class ValidationFailed(DomainError):
    """Some fields are not valid: ``errors`` maps field paths to messages (never values)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__()
        self.errors = errors


# -- reports and their evidence -----------------------------------------------------


class ReportNotFound(DomainError):
    """No such report of this device (another device's report looks the same)."""


class ReportConflict(DomainError):
    """The report id was already used with another body, or by another device."""


class ReportExpired(DomainError):
    """The report expired without evidence (REPORT_EVIDENCE_EXPIRY_HOURS): no file is
    taken for it any more."""


class MediaIdConflict(DomainError):
    """A declared media id already belongs to another report."""


class AnswerConflict(DomainError):
    """The answer id was already used with another body, or for another report."""


class NoInformationRequested(DomainError):
    """The report is not waiting for an answer (its status is not ``needs_info``)."""


class DeviceKeyConflict(DomainError):
    """The device already registered another public key (a new key is a new device)."""


class MediaNotDeclared(DomainError):
    """The report does not declare this media item."""


class LengthRequired(DomainError):
    """The size of the bytes about to be sent is not known."""


class TooLarge(DomainError):
    """More bytes than allowed: the upload limit, or what is left of an upload."""


class SizeMismatch(DomainError):
    """The bytes are not the declared size."""

    def __init__(self, expected: int, received: int | None = None) -> None:
        super().__init__(expected=expected, received=received)
        self.expected = expected
        self.received = received


class ChecksumMismatch(DomainError):
    """The file's SHA-256 is not the declared one."""


class ContentTypeMismatch(DomainError):
    """The file's content is not of the declared type."""


class ImageNotDecodable(ContentTypeMismatch):
    """The file starts like the declared image type but its header does not decode (an
    HTML page behind a JPEG signature): answered as ``content_type_mismatch`` with
    ``reason: image_not_decodable``."""

    def __init__(self) -> None:
        super().__init__(reason="image_not_decodable")


class UploadIncomplete(DomainError):
    """The bytes stopped before the end (the connection broke)."""


class StorageFull(DomainError):
    """No space left for evidence (the disk, or the quota)."""


# -- resumable uploads --------------------------------------------------------------


class UploadNotFound(DomainError):
    """No such upload of this device, or its bytes are gone."""


class UploadExpired(DomainError):
    """The incomplete upload expired."""


class UploadBusy(DomainError):
    """Another request is writing this upload."""


class UploadNotFinished(DomainError):
    """Every byte of the upload is stored, but finishing it (verification, the blob,
    the database) failed for a reason of the server's: a later HEAD or PATCH finishes it."""


class OffsetMismatch(DomainError):
    """The client's offset is not the server's."""


class ChunkChecksumMismatch(DomainError):
    """The chunk does not match its Upload-Checksum; it was discarded."""


# -- accounts -----------------------------------------------------------------------


class RateLimited(DomainError):
    """Too many requests: failed logins (of this username from this address, or of any
    username from this address). ``retry_after``: seconds to wait."""

    def __init__(self, retry_after: int | None = None) -> None:
        super().__init__(retry_after=retry_after)
        self.retry_after = retry_after
