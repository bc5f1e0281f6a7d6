"""server.sniff: what the first bytes are, and whether that matches the declared type."""

from __future__ import annotations

import random

import pytest

from server.sniff import ALLOWED_TYPES, matches_declared, sniff
from tests.media_factory import (
    make_ftyp_head,
    make_heic,
    make_jpeg,
    make_mov_head,
    make_mp4_head,
    make_png,
    make_tiff,
    make_webm_head,
)

HEAD = 4096

JPEG = make_jpeg(lat=21.028511, lon=105.804817)[:HEAD]
PNG = make_png()[:HEAD]
HEIC = make_heic()[:HEAD]
HEIF = make_ftyp_head(b"mif1", (b"mif1", b"miaf"))
MP4 = make_mp4_head()
MOV = make_mov_head()
WEBM = make_webm_head()
AVIF = make_ftyp_head(b"avif", (b"avif", b"mif1", b"miaf"))
MKV = make_webm_head("matroska")

TEXT = b"Bien so 30A-123.45 do tren via he\n" * 20
HTML = b"<!DOCTYPE html>\n<html><head><title>x</title></head><body>" + b"a" * 500
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(200)
GIF = b"GIF89a\x40\x00\x30\x00\xf0\x00\x00" + bytes(100) + b";"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>'
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(100)
ELF = b"\x7fELF\x02\x01\x01" + bytes(100)

VALID_HEADS = {
    "image/jpeg": JPEG,
    "image/png": PNG,
    "image/heic": HEIC,
    "image/heif": HEIF,
    "video/mp4": MP4,
    "video/quicktime": MOV,
    "video/webm": WEBM,
}


@pytest.mark.parametrize("mime", ALLOWED_TYPES)
def test_every_allowed_type_is_detected(mime):
    assert sniff(VALID_HEADS[mime]) == mime


@pytest.mark.parametrize("mime", ALLOWED_TYPES)
def test_every_allowed_type_matches_its_own_declaration(mime):
    assert matches_declared(VALID_HEADS[mime], mime)


def test_tiff_is_detected_but_not_allowed():
    head = make_tiff()[:HEAD]
    assert sniff(head) == "image/tiff"
    assert not matches_declared(head, "image/jpeg")


# --- ISO-BMFF brands --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("major", "compat", "expected"),
    [
        (b"heic", (b"mif1", b"heic"), "image/heic"),
        (b"heix", (b"mif1", b"heix"), "image/heic"),
        (b"heim", (b"mif1",), "image/heic"),
        (b"heis", (b"msf1",), "image/heic"),
        (b"hevc", (b"msf1", b"hevc"), "image/heic"),
        (b"hevx", (b"msf1",), "image/heic"),
        (b"mif1", (b"mif1", b"heic", b"miaf"), "image/heic"),
        (b"mif1", (b"mif1", b"miaf"), "image/heif"),
        (b"msf1", (b"msf1",), "image/heif"),
        (b"mif1", (b"mif1", b"avif", b"miaf"), "image/avif"),
        (b"avif", (b"avif", b"mif1", b"miaf"), "image/avif"),
        (b"avis", (b"avis", b"msf1"), "image/avif"),
        (b"isom", (b"isom", b"iso2", b"avc1", b"mp41"), "video/mp4"),
        (b"iso2", (), "video/mp4"),
        (b"iso3", (), "video/mp4"),
        (b"iso4", (), "video/mp4"),
        (b"iso5", (b"iso5", b"dash"), "video/mp4"),
        (b"iso6", (), "video/mp4"),
        (b"mp41", (), "video/mp4"),
        (b"mp42", (b"isom", b"mp42"), "video/mp4"),
        (b"avc1", (), "video/mp4"),
        (b"M4V ", (b"M4V ", b"M4A ", b"mp42", b"isom"), "video/mp4"),
        (b"3gp4", (b"3gp4", b"isom"), "video/mp4"),
        (b"3gp5", (), "video/mp4"),
        (b"3gp6", (b"3gp6",), "video/mp4"),
        (b"qt  ", (b"qt  ",), "video/quicktime"),
        (b"XAVC", (b"XAVC", b"mp42", b"iso2"), "video/mp4"),
        (b"M4A ", (b"M4A ", b"mp42", b"isom"), "audio/mp4"),
        (b"crx ", (b"crx ",), None),
        (b"zzzz", (b"yyyy",), None),
    ],
    ids=lambda v: v.decode().strip() if isinstance(v, bytes) else None,
)
def test_iso_bmff_brands(major, compat, expected):
    assert sniff(make_ftyp_head(major, compat)) == expected


@pytest.mark.parametrize(
    ("head", "declared", "expected"),
    [
        (HEIC, "image/heic", True),
        (HEIC, "image/heif", True),
        (HEIF, "image/heic", True),
        (HEIF, "image/heif", True),
        (MP4, "video/mp4", True),
        (MP4, "video/quicktime", True),
        (MOV, "video/quicktime", True),
        (MOV, "video/mp4", True),
        (make_mov_head(with_ftyp=False, first_atom=b"moov"), "video/mp4", True),
        (WEBM, "video/webm", True),
        (JPEG, "image/png", False),
        (PNG, "image/jpeg", False),
        (HEIC, "image/jpeg", False),
        (JPEG, "image/heic", False),
        (MP4, "image/heic", False),
        (HEIC, "video/mp4", False),
        (WEBM, "video/mp4", False),
        (MP4, "video/webm", False),
        (AVIF, "image/heic", False),
        (AVIF, "image/heif", False),
        (AVIF, "image/avif", False),
        (MKV, "video/webm", False),
        (MKV, "video/x-matroska", False),
        (make_ftyp_head(b"M4A ", (b"M4A ", b"mp42")), "video/mp4", False),
    ],
    ids=["heic=heic", "heic=heif", "heif=heic", "heif=heif", "mp4=mp4", "mp4=mov",
         "mov=mov", "mov=mp4", "classic_mov=mp4", "webm=webm", "jpeg!=png", "png!=jpeg",
         "heic!=jpeg", "jpeg!=heic", "mp4!=heic", "heic!=mp4", "webm!=mp4", "mp4!=webm",
         "avif!=heic", "avif!=heif", "avif_not_allowed", "mkv!=webm", "mkv_not_allowed",
         "m4a!=mp4"],
)  # fmt: skip
def test_families(head, declared, expected):
    assert matches_declared(head, declared) is expected


@pytest.mark.parametrize(
    "declared",
    ["image/jpeg", "IMAGE/JPEG", " image/jpeg ", "image/jpeg; charset=binary", "image/jpg",
     "image/pjpeg"],
)  # fmt: skip
def test_declared_type_is_normalised(declared):
    assert matches_declared(JPEG, declared)


@pytest.mark.parametrize("declared", ["", "jpeg", "application/octet-stream", "image/*",
                                      "image/gif", "image/webp"])  # fmt: skip
def test_declared_type_outside_the_allowed_list_never_matches(declared):
    assert not matches_declared(JPEG, declared)


def test_declared_type_that_is_not_a_string_never_matches():
    assert not matches_declared(JPEG, None)  # type: ignore[arg-type]


# --- QuickTime without ftyp -----------------------------------------------------------


@pytest.mark.parametrize("first_atom", [b"moov", b"mdat", b"wide", b"free", b"skip"])
def test_classic_quicktime_starting_with_an_atom_is_detected(first_atom):
    head = make_mov_head(with_ftyp=False, first_atom=first_atom)
    assert sniff(head) == "video/quicktime"
    assert matches_declared(head, "video/quicktime")


def test_free_atom_followed_by_ftyp_uses_the_brands():
    head = b"\x00\x00\x00\x08free" + make_ftyp_head(b"heic", (b"mif1", b"heic"))
    assert sniff(head) == "image/heic"


@pytest.mark.parametrize(
    "head",
    [
        b"\x00\x00\x00\x04free" + bytes(100),  # size below the 8-byte header
        b"\x00\x00\x00\x00wide" + bytes(100),  # padding cannot run to end of file
        b"\x00\x00\x00\x08free<html><body>" + bytes(100),  # next atom is not an atom
        b"\x00\x00\x00\x10moof" + bytes(100),  # fragment, not a file start we accept
    ],
    ids=["tiny_size", "zero_size_padding", "garbage_after_free", "unknown_first_atom"],
)
def test_implausible_quicktime_atoms_are_rejected(head):
    assert sniff(head) is None
    assert not matches_declared(head, "video/quicktime")


# --- EBML -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (make_webm_head("webm"), "video/webm"),
        (make_webm_head("matroska"), "video/x-matroska"),
        (make_webm_head(None), "video/x-matroska"),  # EBML default DocType
        (make_webm_head("notwebm"), None),
    ],
    ids=["webm", "matroska", "default_doctype", "other_doctype"],
)
def test_ebml_doctype_decides(head, expected):
    assert sniff(head) == expected


def test_webm_doctype_string_outside_the_header_does_not_make_an_mkv_webm():
    """filetype 1.2.0 searches the whole buffer for the DocType byte pattern."""
    head = make_webm_head("matroska")
    head = head[:64] + b"\x42\x82\x84webm" + head[72:]
    assert sniff(head) == "video/x-matroska"
    assert not matches_declared(head, "video/webm")


# --- rejected content -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "detected"),
    [(TEXT, None), (HTML, None), (PDF, "application/pdf"), (GIF, "image/gif"),
     (SVG, None), (ZIP, "application/zip"), (ELF, "application/x-executable"),
     (MKV, "video/x-matroska"), (AVIF, "image/avif"), (b"", None)],
    ids=["text", "html", "pdf", "gif", "svg", "zip", "elf", "mkv", "avif", "empty"],
)  # fmt: skip
def test_other_content_is_detected_as_what_it_is(head, detected):
    assert sniff(head) == detected


@pytest.mark.parametrize("declared", ALLOWED_TYPES)
@pytest.mark.parametrize(
    "head", [TEXT, HTML, PDF, GIF, SVG, ZIP, ELF, MKV, AVIF, b""],
    ids=["text", "html", "pdf", "gif", "svg", "zip", "elf", "mkv", "avif", "empty"],
)  # fmt: skip
def test_non_allowed_content_never_matches_any_declaration(head, declared):
    assert not matches_declared(head, declared)


def test_jpeg_magic_without_the_third_byte_is_not_a_jpeg():
    assert sniff(b"\xff\xd8") is None
    assert not matches_declared(b"\xff\xd8" + TEXT, "image/jpeg")


# --- truncation and junk never raise --------------------------------------------------


@pytest.mark.parametrize("mime", ALLOWED_TYPES)
def test_truncated_heads_never_raise(mime):
    head = VALID_HEADS[mime]
    for cut in [*range(0, 80), 128, 256, 1024]:
        result = sniff(head[:cut])
        assert result is None or isinstance(result, str)
        assert isinstance(matches_declared(head[:cut], mime), bool)


@pytest.mark.parametrize("mime", ["image/heic", "video/mp4", "video/quicktime", "video/webm"])
def test_heads_cut_after_the_signature_are_still_detected(mime):
    cut = {"image/heic": 28, "video/mp4": 32, "video/quicktime": 20, "video/webm": 40}[mime]
    assert sniff(VALID_HEADS[mime][:cut]) == mime


@pytest.mark.parametrize("seed", range(30))
def test_random_and_mutated_heads_never_raise(seed):
    rng = random.Random(seed)
    candidates = [bytes(rng.randrange(256) for _ in range(rng.choice([1, 5, 16, 64, 4096])))]
    for head in VALID_HEADS.values():
        mutated = bytearray(head[:256])
        for _ in range(8):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        candidates.append(bytes(mutated))
    for head in candidates:
        result = sniff(head)
        assert result is None or isinstance(result, str)
        for declared in ALLOWED_TYPES:
            assert isinstance(matches_declared(head, declared), bool)


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_bytes_like_heads_are_accepted(kind):
    assert sniff(kind(JPEG)) == "image/jpeg"
