"""Images are checked beyond their magic bytes (issue 17, item 9): the header must decode
with Pillow as the declared type (no pixel decoded). An HTML page behind a JPEG or PNG
signature is refused like any content-type mismatch: 422 ``content_type_mismatch``
(with ``reason: image_not_decodable``, message in Vietnamese and English), nothing
stored, the media item not received, a resumable upload reset (as for a SHA-256
mismatch), on the direct PUT and on tus.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from server.sniff import image_header_decodes, matches_declared
from tests.factories import Api, MediaFile, photo
from tests.media_factory import make_heic, make_jpeg, make_mp4_head, make_png
from tests.test_tus import (  # noqa: F401  (the tus and api fixtures)
    Tus,
    api,
    declare,
    offset_of,
    partial_files,
    received,
    stored_blobs,
    tus,
    upload_rows,
)

HTML = b"<!doctype html><html><body><script>alert(1)</script>" + b"<p>x</p>" * 400
# JPEG's SOI + APP0 "JFIF" marker: what a magic-byte check looks at; then a web page.
HTML_BEHIND_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + HTML
HTML_BEHIND_PNG = b"\x89PNG\r\n\x1a\n" + HTML


def _bomb_png() -> bytes:
    """A valid PNG header declaring 30000x30000 pixels (past Pillow's bomb limit)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# (id, bytes, declared type, decodes)
FILES = [
    ("jpeg", make_jpeg, "image/jpeg", True),
    ("png", make_png, "image/png", True),
    ("heic", make_heic, "image/heic", True),
    ("jpeg declared with an alias", make_jpeg, "image/jpg", True),
    ("html behind a jpeg signature", lambda: HTML_BEHIND_JPEG, "image/jpeg", False),
    ("html behind a png signature", lambda: HTML_BEHIND_PNG, "image/png", False),
    ("jpeg cut after its first marker", lambda: make_jpeg()[:20], "image/jpeg", False),
    ("png header of a pixel flood", _bomb_png, "image/png", True),  # server.dedup's job
    ("video: not checked here", lambda: make_mp4_head(), "video/mp4", True),
]


@pytest.mark.parametrize(
    ("data", "declared", "decodes"), [f[1:] for f in FILES], ids=[f[0] for f in FILES]
)
def test_image_header_decodes(tmp_path: Path, data, declared: str, decodes: bool) -> None:
    path = tmp_path / "file"
    path.write_bytes(data())
    assert image_header_decodes(path, declared) is decodes


def test_the_magic_bytes_alone_pass_the_html_page() -> None:
    """Why the header check exists: the first-bytes sniffing says "JPEG"."""
    assert matches_declared(HTML_BEHIND_JPEG[:4096], "image/jpeg")
    assert matches_declared(HTML_BEHIND_PNG[:4096], "image/png")


def _assert_refused(resp) -> None:
    assert resp.status_code == 422
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["code"] == "content_type_mismatch"
    assert body["reason"] == "image_not_decodable"
    assert body["message"]["vi"] and body["message"]["en"]


@pytest.mark.parametrize(
    ("data", "declared"),
    [(HTML_BEHIND_JPEG, "image/jpeg"), (HTML_BEHIND_PNG, "image/png")],
    ids=["jpeg", "png"],
)
def test_direct_put_refuses_a_page_behind_an_image_signature(
    app, client, data: bytes, declared: str
) -> None:
    device = Api.register(client)
    media = MediaFile(data, declared)
    rid = declare(device, media)
    _assert_refused(device.put_media(rid, media))
    assert not received(app, media)
    assert stored_blobs(app) == []
    report = device.get_report(rid).get_json()
    assert report["status"] == "awaiting_evidence"
    # The real photo for another declared item still goes through.
    good = photo()
    rid2 = declare(device, good)
    assert device.put_media(rid2, good).status_code == 201


def test_tus_upload_of_a_page_behind_a_jpeg_signature_is_reset(app, tus: Tus) -> None:  # noqa: F811
    media = MediaFile(HTML_BEHIND_JPEG, "image/jpeg")
    rid = declare(tus.api, media)
    url = tus.create(rid, media).headers["Location"]
    assert tus.patch(url, 0, media.data[:100]).status_code == 204
    _assert_refused(tus.patch(url, 100, media.data[100:]))
    assert not received(app, media)
    assert upload_rows(app) == [] and partial_files(app) == []
    assert stored_blobs(app) == []
    assert tus.head(url).status_code == 404
    again = tus.create(rid, media)  # the client may start over, from 0
    assert again.headers["Location"] != url and offset_of(again) == 0
