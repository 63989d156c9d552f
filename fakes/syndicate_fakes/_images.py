"""Recognise PNG, GIF, JPEG and WebP files and read their dimensions (stdlib only).

Like Mastodon (which relies on the file's content, not on the Content-Type the
client declares), the type is sniffed from the bytes.  ``image_info`` returns
``(mime_type, width, height)``; it raises :class:`ImageError` when the bytes
claim to be one of these formats but are truncated or corrupt, and returns
``None`` when the bytes are not a recognised image at all.
"""

from __future__ import annotations

import struct
import zlib

__all__ = ["ImageError", "image_info", "sniff_mime_type"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers carrying the dimensions (not DHT/JPG/DAC).
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class ImageError(ValueError):
    """The data looks like an image of a known format but cannot be decoded."""


def sniff_mime_type(data: bytes) -> str | None:
    if data.startswith(PNG_SIGNATURE):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_info(data: bytes) -> tuple[str, int, int] | None:
    mime = sniff_mime_type(data)
    if mime is None:
        return None
    reader = {
        "image/png": _png_size,
        "image/gif": _gif_size,
        "image/jpeg": _jpeg_size,
        "image/webp": _webp_size,
    }[mime]
    try:
        width, height = reader(data)
    except (struct.error, IndexError) as exc:
        raise ImageError(f"truncated {mime}") from exc
    if width <= 0 or height <= 0:
        raise ImageError(f"{mime} with empty dimensions")
    return mime, width, height


def _png_size(data: bytes) -> tuple[int, int]:
    """Walk every chunk (checking CRCs) so a truncated upload is refused."""
    pos = len(PNG_SIGNATURE)
    size = None
    seen_idat = False
    first = True
    while True:
        if pos + 8 > len(data):
            raise ImageError("PNG ends before IEND")
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk_end = pos + 8 + length + 4
        if chunk_end > len(data):
            raise ImageError("PNG chunk runs past the end of the file")
        payload = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[chunk_end - 4 : chunk_end])
        if zlib.crc32(kind + payload) & 0xFFFFFFFF != crc:
            raise ImageError(f"bad CRC in PNG chunk {kind!r}")
        if first:
            if kind != b"IHDR" or length != 13:
                raise ImageError("PNG does not start with IHDR")
            size = struct.unpack(">II", payload[:8])
            first = False
        elif kind == b"IDAT":
            seen_idat = True
        elif kind == b"IEND":
            break
        pos = chunk_end
    if not seen_idat or size is None:
        raise ImageError("PNG has no image data")
    return size


def _gif_size(data: bytes) -> tuple[int, int]:
    if len(data) < 13:
        raise ImageError("GIF header truncated")
    return struct.unpack("<HH", data[6:10])


def _jpeg_size(data: bytes) -> tuple[int, int]:
    pos = 2
    while pos < len(data):
        if data[pos] != 0xFF:
            raise ImageError("JPEG marker expected")
        while data[pos] == 0xFF:  # fill bytes
            pos += 1
        marker = data[pos]
        pos += 1
        if marker == 0xD9 or marker == 0xDA:  # end of image / start of scan
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length
            continue
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        if length < 2:
            raise ImageError("bad JPEG segment length")
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[pos + 3 : pos + 7])
            return width, height
        pos += length
    raise ImageError("JPEG has no frame header")


def _webp_size(data: bytes) -> tuple[int, int]:
    kind = data[12:16]
    body = data[20:]
    if kind == b"VP8 ":
        if body[3:6] != b"\x9d\x01\x2a":
            raise ImageError("bad VP8 start code")
        width, height = struct.unpack("<HH", body[6:10])
        return width & 0x3FFF, height & 0x3FFF
    if kind == b"VP8L":
        if body[0] != 0x2F:
            raise ImageError("bad VP8L signature")
        (bits,) = struct.unpack("<I", body[1:5])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8X":
        if len(body) < 10:
            raise ImageError("VP8X header truncated")
        width = int.from_bytes(body[4:7], "little") + 1
        height = int.from_bytes(body[7:10], "little") + 1
        return width, height
    raise ImageError(f"unknown WebP chunk {kind!r}")
