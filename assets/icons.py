"""Draw the web app's icons (``static/icons/``) with the standard library only: a ring with a
gap (a path that continues) on the app's dark blue. Run ``python assets/icons.py``."""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "static" / "icons"
BACKGROUND = (0x1D, 0x23, 0x30)
RING = (0xFF, 0xFF, 0xFF)
DOT = (0x4C, 0xC9, 0x7A)


def pixel(x: float, y: float, size: int) -> tuple[int, int, int]:
    c = size / 2
    dx, dy = x - c, y - c
    r = math.hypot(dx, dy) / size
    angle = math.degrees(math.atan2(dy, dx)) % 360
    if 0.22 <= r <= 0.32 and not (300 <= angle <= 350):
        return RING
    ex, ey = (
        c + 0.27 * size * math.cos(math.radians(325)),
        c + 0.27 * size * math.sin(math.radians(325)),
    )
    if math.hypot(x - ex, y - ey) <= 0.07 * size:
        return DOT
    return BACKGROUND


def png(size: int) -> bytes:
    rows = bytearray()
    for y in range(size):
        rows.append(0)
        for x in range(size):
            rows.extend(pixel(x + 0.5, y + 0.5, size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
<rect width="100" height="100" fill="#1d2330"/>
<path d="M72.1 65.5A27 27 0 1 1 75.9 40.4" fill="none" stroke="#fff" stroke-width="10"/>
<circle cx="72.1" cy="34.5" r="7" fill="#4cc97a"/>
</svg>
"""

if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        (OUT / f"continuum-{size}.png").write_bytes(png(size))
    (OUT / "continuum.svg").write_text(SVG)
