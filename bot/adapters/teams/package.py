"""The Teams app package: `teams/manifest.json` with the app id filled in, the two icons, zipped.

Teams installs a bot from a zip with `manifest.json` at the top beside a 192×192 colour icon and
a 32×32 outline icon (white on transparent). The committed manifest carries a zero GUID where
the Azure bot's app id goes; `package` puts the real one in (`id`, the bot's and the search
extension's `botId`), adds the
public host to `validDomains` when given, and refuses an id that is not a GUID. The icons are
drawn here (plain zlib PNGs), so they can be made again: `draw_icons(folder)`.
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3] / "teams"
MANIFEST = "manifest.json"
COLOR, OUTLINE = "color.png", "outline.png"
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
HOST = re.compile(r"^(\*\.)?([a-z0-9-]+\.)+[a-z]{2,}(:\d+)?$", re.IGNORECASE)
ACCENT = (0x3B, 0x5B, 0xDB)


class PackageError(ValueError):
    """The package cannot be built; the message says which value is wrong and why."""


def manifest(app_id: str, *, domain: str | None = None, folder: Path = ROOT) -> dict[str, Any]:
    """The manifest with this app id (and public host) filled in."""
    if not GUID.match(app_id or ""):
        raise PackageError(f"the app id must be the Azure bot's Microsoft App ID, a GUID (got {app_id!r})")
    if domain is not None and not HOST.match(domain):
        raise PackageError(f"--domain must be a host name like learnbot.example.com (got {domain!r})")
    data: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    data["id"] = app_id
    for part in (*data.get("bots", []), *data.get("composeExtensions", [])):
        part["botId"] = app_id
    if domain:
        data["validDomains"] = sorted(set(data.get("validDomains", [])) | {domain})
    return data


def package(out: Path, app_id: str, *, domain: str | None = None, folder: Path = ROOT) -> Path:
    """Write the zip Teams installs: manifest.json, color.png, outline.png at the top level."""
    data = manifest(app_id, domain=domain, folder=folder)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(data, indent=2) + "\n")
        for icon in (data["icons"]["color"], data["icons"]["outline"]):
            archive.write(folder / icon, icon)
    return out


# ---- the icons ------------------------------------------------------------------------------


def png(width: int, height: int, pixels: list[list[tuple[int, int, int, int]]]) -> bytes:
    """An RGBA PNG from rows of (r, g, b, a)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + bytes(value for pixel in row for value in pixel) for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _book(x: float, y: float) -> bool:
    """An open book in the unit square: two pages meeting at a spine, seen from the front."""
    if not 0.2 <= x <= 0.8:
        return False
    sag = 0.06 * (1 - abs(x - 0.5) / 0.3)  # the pages dip towards the spine
    return 0.3 + sag <= y <= 0.72 + sag and abs(x - 0.5) > 0.012


def _outline(x: float, y: float, width: float) -> bool:
    """The book's edges only, `width` thick (for the outline icon)."""
    inside = _book(x, y)
    near = any(not _book(x + dx, y + dy) for dx in (-width, 0, width) for dy in (-width, 0, width))
    return inside and near


def draw_icons(folder: Path = ROOT) -> None:
    """color.png (192×192, a white book on the accent colour), outline.png (32×32, white on transparent)."""
    size = 192
    color = [
        [
            (255, 255, 255, 255) if _book((i + 0.5) / size, (j + 0.5) / size) else (*ACCENT, 255)
            for i in range(size)
        ]
        for j in range(size)
    ]
    (folder / COLOR).write_bytes(png(size, size, color))
    small = 32
    outline = [
        [
            (255, 255, 255, 255)
            if _outline((i + 0.5) / small, (j + 0.5) / small, 1.2 / small)
            else (0, 0, 0, 0)
            for i in range(small)
        ]
        for j in range(small)
    ]
    (folder / OUTLINE).write_bytes(png(small, small, outline))
