"""Draw the PWA icons with Pillow; the PNGs in pwa/icons/ are committed output.

    python pwa/tools/make_icons.py

A yellow warning triangle with a road and a camera dot on RoadWatch blue. The
"any" icons have rounded corners; the maskable one is full-bleed with the artwork
inside the central 60 % (the safe zone of a circular mask is the central 80 %).
Everything is drawn at 4x and downsampled, so edges are antialiased.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "icons"
BLUE = (11, 79, 138, 255)
YELLOW = (255, 193, 7, 255)
INK = (23, 32, 42, 255)
WHITE = (255, 255, 255, 255)
SCALE = 4


def _artwork(draw: ImageDraw.ImageDraw, size: int, art: float) -> None:
    """The triangle sign, centred, ``art`` of ``size`` wide."""
    cx = size / 2
    w = size * art
    h = w * 0.88
    top = size / 2 - h * 0.55
    tri = [(cx, top), (cx + w / 2, top + h), (cx - w / 2, top + h)]
    draw.polygon(tri, fill=YELLOW)
    # A rim in ink, drawn as a slightly smaller triangle inside a dark one.
    inset = w * 0.09
    inner = [
        (cx, top + inset * 1.9),
        (cx + w / 2 - inset * 1.65, top + h - inset * 0.95),
        (cx - w / 2 + inset * 1.65, top + h - inset * 0.95),
    ]
    draw.polygon(tri, fill=INK)
    draw.polygon(inner, fill=YELLOW)
    # A road vanishing towards the apex.
    base_y = top + h - inset * 0.95
    road_top = top + h * 0.36
    road = [
        (cx - w * 0.035, road_top),
        (cx + w * 0.035, road_top),
        (cx + w * 0.19, base_y),
        (cx - w * 0.19, base_y),
    ]
    draw.polygon(road, fill=INK)
    # Dashed centre line.
    for i in range(3):
        y0 = road_top + (base_y - road_top) * (0.12 + i * 0.3)
        y1 = y0 + (base_y - road_top) * 0.16
        half = w * (0.008 + 0.012 * i)
        draw.rectangle([cx - half, y0, cx + half, y1], fill=YELLOW)
    # The "record" dot of a camera, top right of the sign.
    r = w * 0.085
    dx, dy = cx + w * 0.30, top + h * 0.16
    draw.ellipse([dx - r * 1.35, dy - r * 1.35, dx + r * 1.35, dy + r * 1.35], fill=WHITE)
    draw.ellipse([dx - r, dy - r, dx + r, dy + r], fill=(211, 47, 47, 255))


def icon(size: int, *, maskable: bool) -> Image.Image:
    big = size * SCALE
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    if maskable:
        draw.rectangle([0, 0, big, big], fill=BLUE)
        _artwork(draw, big, art=0.56)
    else:
        draw.rounded_rectangle([0, 0, big - 1, big - 1], radius=big * 0.22, fill=BLUE)
        _artwork(draw, big, art=0.74)
    return img.resize((size, size), Image.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    outputs = {
        "icon-192.png": icon(192, maskable=False),
        "icon-512.png": icon(512, maskable=False),
        "maskable-192.png": icon(192, maskable=True),
        "maskable-512.png": icon(512, maskable=True),
        # iOS ignores transparency and rounds the corners itself: full-bleed.
        "apple-touch-icon.png": icon(180, maskable=True).convert("RGB"),
        "favicon-32.png": icon(32, maskable=False),
    }
    for name, img in outputs.items():
        img.save(OUT / name, optimize=True)
        print(f"{OUT / name} {img.size[0]}x{img.size[1]}")


if __name__ == "__main__":
    main()
