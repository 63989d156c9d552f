"""Photo-like images for the image fitter's tests, drawn with Pillow (the same for the same seed),
and the independent checks the tests hold the fitter's output to.

A picture is noise, fine detail or smooth gradients, with two coloured marks (red in the top-left
corner, green to its right) that show which way up it is. It is stored as a camera or an editor
would: JPEG (RGB or CMYK), PNG (RGB, with alpha, 16-bit grey, 16-bit RGB), with any EXIF
orientation.
"""

import io
import random
import struct
import zlib
from dataclasses import dataclass, field

from django.core.files.images import ImageFile
from hypothesis import strategies as st
from PIL import Image, ImageOps
from wagtail.images import get_image_model

KINDS = ("noise", "detail", "gradient")
# How a picture is stored: (name, file format).
VARIANTS = {
    "jpeg": "JPEG",
    "cmyk": "JPEG",
    "png": "PNG",
    "alpha": "PNG",
    "grey16": "PNG",
    "rgb16": "PNG",
}
EXIF_ORIENTATION = 0x0112
# The eight ways a picture can be turned and mirrored, by EXIF orientation.
TRANSPOSES = {
    1: [],
    2: [Image.Transpose.FLIP_LEFT_RIGHT],
    3: [Image.Transpose.ROTATE_180],
    4: [Image.Transpose.FLIP_TOP_BOTTOM],
    5: [Image.Transpose.TRANSPOSE],
    6: [Image.Transpose.ROTATE_270],
    7: [Image.Transpose.TRANSVERSE],
    8: [Image.Transpose.ROTATE_90],
}


def draw(kind: str, width: int, height: int, seed: int = 0) -> Image.Image:
    """An RGB picture of ``kind`` with its two marks."""
    rng = random.Random(seed)
    if kind == "noise":
        picture = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    elif kind == "detail":
        # Fractal edges over noise at two scales: detail that survives being scaled down.
        fractal = Image.effect_mandelbrot((width, height), (-2.0, -1.2, 0.8, 1.2), 100)
        coarse = Image.frombytes(
            "RGB", (max(1, width // 3), max(1, height // 3)), rng.randbytes(width * height)
        ).resize((width, height), Image.Resampling.NEAREST)
        fine = Image.frombytes("L", (width, height), rng.randbytes(width * height))
        picture = Image.blend(Image.merge("RGB", (fractal, fine, fractal)), coarse, 0.5)
    elif kind == "gradient":
        across = Image.linear_gradient("L").resize((width, height))
        down = across.transpose(Image.Transpose.ROTATE_90).resize((width, height))
        ring = Image.radial_gradient("L").resize((width, height))
        picture = Image.merge("RGB", (across, down, ring))
    else:
        raise ValueError(kind)
    mark_w, mark_h = max(1, width // 4), max(1, height // 4)
    picture.paste((255, 0, 0), (0, 0, mark_w, mark_h))
    picture.paste((0, 255, 0), (mark_w, 0, 2 * mark_w, mark_h))
    return picture


def encode(picture: Image.Image, variant: str, orientation: int = 1, quality: int = 95) -> bytes:
    """``picture`` stored as ``variant`` with EXIF ``orientation``."""
    exif = Image.Exif()
    if orientation != 1:
        exif[EXIF_ORIENTATION] = orientation
    if variant == "rgb16":
        return _png16(picture, exif.tobytes() if orientation != 1 else b"")
    if variant == "cmyk":
        picture = picture.convert("CMYK")
    elif variant == "alpha":
        picture = picture.convert("RGBA")
        picture.putalpha(Image.linear_gradient("L").resize(picture.size))
    elif variant == "grey16":
        picture = picture.convert("L").convert("I").point(lambda v: v * 257).convert("I;16")
    buffer = io.BytesIO()
    options = {"quality": quality} if VARIANTS[variant] == "JPEG" else {}
    picture.save(buffer, VARIANTS[variant], exif=exif, **options)
    return buffer.getvalue()


def _png16(picture: Image.Image, exif: bytes) -> bytes:
    """A 48-bit RGB PNG (Pillow writes none), each 8-bit value v as v × 257."""
    width, height = picture.size
    raw = picture.convert("RGB").tobytes()
    wide = bytearray(2 * len(raw))
    wide[0::2], wide[1::2] = raw, raw
    row = width * 6
    scanlines = b"".join(b"\0" + bytes(wide[y * row : (y + 1) * row]) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"eXIf", exif[6:] if exif.startswith(b"Exif\0\0") else exif) if exif else b"",
            chunk(b"IDAT", zlib.compress(scanlines)),
            chunk(b"IEND", b""),
        ]
    )


def stored(data: bytes, name: str, title: str = "Harbour at dawn"):
    """A Wagtail image holding ``data``."""
    return get_image_model().objects.create(
        title=title, file=ImageFile(io.BytesIO(data), name=name)
    )


@dataclass(frozen=True)
class Photo:
    kind: str
    variant: str
    orientation: int
    width: int
    height: int
    seed: int
    data: bytes = field(default=b"", repr=False)

    @property
    def filename(self) -> str:
        return f"photo.{'jpg' if VARIANTS[self.variant] == 'JPEG' else 'png'}"

    def upright(self) -> Image.Image:
        """The picture as it is meant to be seen (EXIF orientation applied)."""
        return ImageOps.exif_transpose(Image.open(io.BytesIO(self.data)))


@st.composite
def photos(draw_from, min_side=24, max_side=360):
    """Photos of every kind, storage, orientation and aspect ratio (from 1:4 to 4:1)."""
    kind = draw_from(st.sampled_from(KINDS))
    variant = draw_from(st.sampled_from(sorted(VARIANTS)))
    orientation = draw_from(st.integers(1, 8))
    longest = draw_from(st.integers(min_side * 2, max_side))
    shortest = draw_from(st.integers(max(min_side, longest // 4), longest))
    width, height = (longest, shortest) if draw_from(st.booleans()) else (shortest, longest)
    seed = draw_from(st.integers(0, 2**16))
    data = encode(draw(kind, width, height, seed), variant, orientation)
    return Photo(kind, variant, orientation, width, height, seed, data)


# Checks ----------------------------------------------------------------------------------------


def as_seen(picture: Image.Image) -> Image.Image:
    """``picture`` as RGB on white, as a viewer shows it (16-bit scaled, alpha on white)."""
    if picture.mode.startswith("I;16"):
        picture = picture.convert("L")
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        picture = picture.convert("RGBA")
        white = Image.new("RGBA", picture.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, picture).convert("RGB")
    return picture.convert("RGB")


def thumbnail(picture: Image.Image, size: int = 8) -> list[tuple[int, int, int]]:
    pixels = as_seen(picture).resize((size, size), Image.Resampling.BOX).tobytes()
    return [tuple(pixels[i : i + 3]) for i in range(0, len(pixels), 3)]


def distance(a: list, b: list) -> float:
    """Mean difference per channel between two thumbnails (0 to 255)."""
    return sum(abs(x - y) for p, q in zip(a, b, strict=True) for x, y in zip(p, q, strict=True)) / (
        3 * len(a)
    )


def way_up(sent: Image.Image, upright: Image.Image) -> int:
    """Which of the eight turns of ``upright`` the ``sent`` pixels look most like (1: as it is
    meant to be seen)."""
    shown = thumbnail(sent)
    scores = {}
    for orientation, steps in TRANSPOSES.items():
        candidate = upright
        for step in steps:
            candidate = candidate.transpose(step)
        scores[orientation] = distance(shown, thumbnail(candidate))
    return min(scores, key=scores.get)


def jpeg_size(picture: Image.Image, size: tuple[int, int], quality: int) -> int:
    """The bytes of ``picture`` scaled to ``size`` as a JPEG (as Wagtail saves one)."""
    scaled = as_seen(picture).resize(size, Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    scaled.save(buffer, "JPEG", quality=quality, optimize=True, progressive=True)
    return len(buffer.getvalue())
