"""Uploaded photos: their size, and the PhotoSize list Telegram answers with.

Telegram decodes every uploaded photo, refuses what is not an image
(``IMAGE_PROCESS_FAILED``) and answers with several scaled copies. The sandbox
reads the dimensions from the PNG, JPEG, GIF or WebP header (no image library
needed), keeps the original bytes so a test can read the chart it sent back,
and lists a thumbnail plus the original as the ``photo`` array.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

MAX_PHOTO_BYTES = 10 * 1024 * 1024
_THUMB_SIDES = (90, 320, 800)


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, JPEG, GIF or WebP image; None if it is none of those."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            width = int.from_bytes(data[24:27], "little") + 1
            height = int.from_bytes(data[27:30], "little") + 1
            return width, height
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return width & 0x3FFF, height & 0x3FFF
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None


@dataclass
class StoredPhoto:
    """One sent photo: its bytes (empty for a URL) and the sizes handed out for it."""

    number: int
    data: bytes
    width: int
    height: int
    filename: str | None = None
    mime_type: str | None = None
    url: str | None = None
    sizes: list[dict[str, Any]] = field(default_factory=list)

    def build_sizes(self) -> list[dict[str, Any]]:
        """Scaled copies smaller than the original, then the original itself."""
        sizes: list[dict[str, Any]] = []
        longest = max(self.width, self.height, 1)
        for index, side in enumerate(_THUMB_SIDES):
            if side >= longest:
                break
            scale = side / longest
            width, height = max(1, round(self.width * scale)), max(1, round(self.height * scale))
            sizes.append(self._size(index, width, height, max(1, len(self.data) * side // longest)))
        sizes.append(self._size(len(_THUMB_SIDES), self.width, self.height, len(self.data)))
        self.sizes = sizes
        return sizes

    def _size(self, index: int, width: int, height: int, size: int) -> dict[str, Any]:
        return {
            "file_id": f"AgACAgIAAxkBAAI{self.number:08d}{index}SandboxPhoto",
            "file_unique_id": f"AQAD{self.number:08d}{index}",
            "file_size": size,
            "width": width,
            "height": height,
        }
