"""Image dimensions from the file header (PNG, JPEG, WebP), read before any pixel is decoded.

A 2.6 MB PNG can declare 30000×30000 pixels (2.7 GB of RGB); decoders allocate what the header says, so
the size is checked here first.
"""

from __future__ import annotations

import struct
from typing import IO

# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic); C4, C8 and CC are not frames.
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# Segments to walk before giving up on finding a frame header (EXIF, ICC, XMP... come first).
_MAX_JPEG_SEGMENTS = 512


class HeaderError(ValueError):
    """The header is truncated or malformed."""


def _read(fh: IO[bytes], n: int) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise HeaderError("truncated header")
    return data


def _png(fh: IO[bytes]) -> tuple[int, int]:
    data = _read(fh, 24)
    if data[12:16] != b"IHDR":
        raise HeaderError("PNG without IHDR")
    w, h = struct.unpack(">II", data[16:24])
    return int(w), int(h)


def _jpeg(fh: IO[bytes]) -> tuple[int, int]:
    _read(fh, 2)  # SOI
    for _ in range(_MAX_JPEG_SEGMENTS):
        b = _read(fh, 1)
        while b != b"\xff":  # tolerate padding between segments
            b = _read(fh, 1)
        marker = _read(fh, 1)[0]
        while marker == 0xFF:
            marker = _read(fh, 1)[0]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            continue  # markers without a length
        if marker == 0xD9:
            break
        (length,) = struct.unpack(">H", _read(fh, 2))
        if length < 2:
            raise HeaderError("bad JPEG segment length")
        if marker in _SOF:
            _, h, w = struct.unpack(">BHH", _read(fh, 5))
            return int(w), int(h)
        fh.seek(length - 2, 1)
    raise HeaderError("no JPEG frame header")


def _webp(fh: IO[bytes]) -> tuple[int, int]:
    data = _read(fh, 30)
    chunk = data[12:16]
    if chunk == b"VP8 ":
        w, h = struct.unpack("<HH", data[26:30])
        return int(w & 0x3FFF), int(h & 0x3FFF)
    if chunk == b"VP8L":
        if data[20] != 0x2F:
            raise HeaderError("bad VP8L signature")
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        w = int.from_bytes(data[24:27], "little") + 1
        h = int.from_bytes(data[27:30], "little") + 1
        return w, h
    raise HeaderError("unknown WebP chunk")


def image_size(fh: IO[bytes], kind: str) -> tuple[int, int]:
    """(width, height) from the header of a seekable stream positioned at the file's start; rewinds it."""
    reader = {"png": _png, "jpeg": _jpeg, "webp": _webp}[kind]
    try:
        return reader(fh)
    finally:
        fh.seek(0)
