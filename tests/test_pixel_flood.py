"""A pixel flood (issue 17, item 1): a small PNG declaring a huge picture is stored, but
never decoded at full size to compute its perceptual hash.

The PNG is 13377 x 13377 all-zero RGBA pixels (just under Pillow's decompression-bomb
error), under 1 MB compressed; decoded it would take about 700 MB. Pillow's pixel
buffers are not Python allocations (tracemalloc does not see them), so memory is
measured as the process's peak resident size (``ru_maxrss``).
"""

from __future__ import annotations

import hashlib
import resource
import struct
import subprocess
import sys
import uuid
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.dedup import DEFAULT_MAX_DECODE_PIXELS
from server.extensions import db
from server.models import Media
from tests.factories import Api, MediaFile, blob_files, report_body

SIDE = 13377
REPO = Path(__file__).resolve().parents[1]
# A decode of the flood would add about 700 MB (RGBA) to the peak; hashing a small photo
# and the bookkeeping of a request add a few tens of MB.
BOUND_MB = 150

pytestmark = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def flood_png(side: int = SIDE) -> bytes:
    """An all-zero RGBA PNG of ``side`` x ``side`` pixels, built row by row (never the
    whole picture in memory)."""
    comp = zlib.compressobj(9)
    row = b"\0" * (1 + 4 * side)  # filter byte, then the pixels
    parts = [comp.compress(row) for _ in range(side)]
    idat = b"".join(parts) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def flood(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("flood") / "flood.png"
    path.write_bytes(flood_png())
    return path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def test_the_flood_is_small_and_declares_more_pixels_than_the_cap(flood: Path) -> None:
    assert flood.stat().st_size < 1024 * 1024
    assert SIDE * SIDE > DEFAULT_MAX_DECODE_PIXELS
    from PIL import Image

    with Image.open(flood) as img:
        assert img.size == (SIDE, SIDE) and img.mode == "RGBA"


HASH_IN_A_FRESH_PROCESS = """
import resource, sys
from server.dedup import perceptual_hash
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
h = perceptual_hash(sys.argv[1], *map(int, sys.argv[2:]))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(h, (after - before) // 1024)
"""


def _hash_in_subprocess(path: Path, *max_pixels: int) -> tuple[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", HASH_IN_A_FRESH_PROCESS, str(path), *map(str, max_pixels)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout.split()
    return out[0], int(out[1])


def test_hashing_the_flood_gives_no_hash_and_decodes_nothing(flood: Path) -> None:
    phash, grew_mb = _hash_in_subprocess(flood)
    assert phash == "None"
    assert grew_mb < BOUND_MB, f"hashing grew the process by {grew_mb} MB"


def test_a_picture_under_the_cap_is_hashed_from_a_grey_reduced_copy(tmp_path: Path) -> None:
    # 4000 x 4000 RGBA PNG (64 MB as RGBA): only the grey decode (16 MB) is kept.
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (4000, 4000), (0, 0, 0, 255))
    ImageDraw.Draw(img).rectangle((500, 500, 2500, 3500), fill=(255, 255, 255, 255))
    path = tmp_path / "big.png"
    img.save(path)
    del img
    phash, grew_mb = _hash_in_subprocess(path)
    assert phash != "None" and len(phash) == 16
    assert grew_mb < BOUND_MB, f"hashing grew the process by {grew_mb} MB"
    # With a lower cap, the same picture is not decoded.
    assert _hash_in_subprocess(path, 4000 * 4000 - 1)[0] == "None"


def test_uploading_the_flood_is_accepted_stored_intact_without_a_phash(
    app: Flask, client: FlaskClient, flood: Path
) -> None:
    data = flood.read_bytes()
    media = MediaFile(data, "image/png")
    api = Api.register(client)
    rid = str(uuid.uuid4())
    assert api.put_report(rid, report_body([media])).status_code == 201
    before = peak_rss_mb()
    resp = api.put_media(rid, media)
    grew = peak_rss_mb() - before
    assert resp.status_code in (200, 201, 204), resp.get_data(as_text=True)
    assert grew < BOUND_MB, f"the upload grew the peak memory by {grew:.0f} MB"
    assert api.get_report(rid).get_json()["evidence"][0]["received"] is True
    with app.app_context():
        row = db.session.scalar(sa.select(Media).where(Media.id == media.media_id))
        assert row.phash is None
    stored = [p for p in blob_files(app) if p.stat().st_size == len(data)]
    assert [hashlib.sha256(p.read_bytes()).hexdigest() for p in stored] == [
        hashlib.sha256(data).hexdigest()
    ]
