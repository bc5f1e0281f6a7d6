"""A synthetic street corner for the dedup tests: the same scene, different vehicles.

Two phones photograph one corner a quarter of an hour apart: the buildings, the tree,
the traffic light and the crossing are the same, only the car (and its plate) differs.
The perceptual hashes of such photos are a few bits apart, well within the threshold
that joins re-encoded copies of one photo (tests/test_case_integrity.py asserts it), so
the pHash alone can never tell "the same car" from "the same corner".
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw

SIZE = (640, 480)


@dataclass(frozen=True)
class Vehicle:
    body: tuple[int, int, int]
    cabin: tuple[int, int, int]
    at: tuple[int, int]  # top-left corner of the body
    width: int
    height: int
    plate: str


RED_SEDAN = Vehicle((200, 30, 30), (170, 20, 20), (180, 320), 200, 60, "30A-111.11")
BLUE_SUV = Vehicle((30, 60, 190), (25, 45, 150), (190, 310), 220, 90, "29C-246.80")


def _background(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    width, height = SIZE
    x = 0
    while x < width:  # a row of buildings with windows
        w, h = rng.randrange(60, 130), rng.randrange(120, 230)
        draw.rectangle((x, 260 - h, x + w, 260), fill=tuple(rng.randrange(90, 220) for _ in "rgb"))
        for wy in range(260 - h + 10, 250, 22):
            for wx in range(x + 8, x + w - 12, 18):
                draw.rectangle((wx, wy, wx + 9, wy + 12), fill=(60, 70, 90))
        x += w + rng.randrange(0, 8)
    draw.rectangle((0, 260, width, 300), fill=(170, 165, 160))  # sidewalk
    draw.rectangle((0, 300, width, height), fill=(70, 70, 75))  # road
    for lx in range(0, width, 80):  # lane markings
        draw.rectangle((lx, 385, lx + 45, 392), fill=(240, 240, 240))
    for cx in range(470, 630, 22):  # the crossing
        draw.rectangle((cx, 300, cx + 12, height), fill=(225, 225, 225))
    draw.rectangle((40, 170, 52, 290), fill=(90, 60, 30))  # a tree
    draw.ellipse((5, 100, 90, 190), fill=(40, 120, 50))
    draw.rectangle((430, 120, 436, 295), fill=(50, 50, 50))  # the traffic light
    draw.rectangle((420, 100, 446, 150), fill=(30, 30, 30))
    draw.ellipse((426, 104, 440, 118), fill=(220, 40, 40))


def _vehicle(draw: ImageDraw.ImageDraw, v: Vehicle) -> None:
    x0, y0 = v.at
    w, h = v.width, v.height
    draw.rectangle((x0, y0, x0 + w, y0 + h), fill=v.body)
    draw.rectangle((x0 + w // 5, y0 - h // 2, x0 + 4 * w // 5, y0), fill=v.cabin)
    for wheel_x in (x0 + 10, x0 + w - 46):
        draw.ellipse((wheel_x, y0 + h - 18, wheel_x + 36, y0 + h + 18), fill=(20, 20, 20))
    px, py = x0 + w // 2 - 40, y0 + h - 30
    draw.rectangle((px, py, px + 80, py + 20), fill=(245, 245, 245), outline=(0, 0, 0))
    draw.text((px + 6, py + 5), v.plate, fill=(0, 0, 0))


def street_corner(vehicle: Vehicle, seed: int = 7) -> Image.Image:
    """The corner (the same for a given ``seed``) with ``vehicle`` in front of it."""
    image = Image.new("RGB", SIZE, (150, 190, 230))  # sky
    draw = ImageDraw.Draw(image)
    _background(draw, random.Random(seed))
    _vehicle(draw, vehicle)
    return image


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def reencoded(data: bytes, quality: int = 60, scale: float = 1.0) -> bytes:
    """A copy as a chat app forwards it: decoded, maybe shrunk, saved again."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    if scale != 1.0:
        size = (round(image.width * scale), round(image.height * scale))
        image = image.resize(size, Image.Resampling.LANCZOS)
    return jpeg(image, quality)


def blank(colour: tuple[int, int, int] = (0, 0, 0), quality: int = 90) -> bytes:
    """A uniform photo (a lens cap, a black screen): nothing to compare."""
    return jpeg(Image.new("RGB", SIZE, colour), quality)
