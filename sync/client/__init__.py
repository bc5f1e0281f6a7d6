"""A Python client of the RoadWatch sync protocol (sync/PROTOCOL.md).

Used by patrol officers to push a folder of dash-cam photos and clips
(``python -m sync.client push FOLDER``), and by the tests and benchmarks.

- :mod:`sync.client.outbox`: the on-disk outbox (SQLite): what was captured, its state.
- :mod:`sync.client.http`: the HTTP calls, with retry classification and backoff.
- :mod:`sync.client.tus`: resumable upload of one file.
- :mod:`sync.client.push`: drives queued reports through the protocol's states.
- :mod:`sync.client.folder`: turns a folder of files into queued reports (EXIF time and place).
"""

from .outbox import Outbox
from .push import Pusher

__all__ = ["Outbox", "Pusher"]
