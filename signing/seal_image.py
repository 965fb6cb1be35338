"""The red round seal (圆形公章) drawn from an organisation's name.

A visible e-seal shows the familiar picture: a red ring, the organisation's name set clockwise
along the upper arc, a five-pointed star in the middle and, optionally, a short line under the
star (e.g. "电子印章" or the seal's purpose). Nothing is shipped as an image file: the seal is
drawn with Pillow from a CJK font (Noto Serif/Sans CJK from Debian's fonts-noto-cjk by default,
or ``fc-match``), at twice the size and scaled down for smooth edges, on a transparent
background. The picture is decoration; the legal force is in the signature beneath it.
"""

from __future__ import annotations

import io
import math
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from signing.errors import ConfigurationError, FontNotFound

__all__ = ["SealStyle", "draw_seal", "find_cjk_font", "seal_png"]

_DEBIAN_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
_SUPERSAMPLE = 2
_MAX_NAME_CHARS = 40


@dataclass(frozen=True)
class SealStyle:
    """How the seal looks. Sizes are in pixels of the final image."""

    size: int = 360
    color: tuple[int, int, int] = (214, 24, 24)
    bottom_text: str | None = "电子印章"
    font_path: Path | None = None
    """A .ttf/.otf/.ttc with Simplified Chinese glyphs; found automatically when ``None``."""


def find_cjk_font() -> Path:
    """A font file with Simplified Chinese glyphs: Debian's Noto CJK, else ``fc-match``."""
    searched = list(_DEBIAN_FONTS)
    for candidate in _DEBIAN_FONTS:
        if Path(candidate).is_file():
            return Path(candidate)
    fc_match = shutil.which("fc-match")
    if fc_match:
        searched.append("fc-match serif:lang=zh-cn")
        result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [fc_match, "-f", "%{file}", "serif:lang=zh-cn"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        path = Path(result.stdout.strip())
        if result.returncode == 0 and path.is_file() and _has_cjk(path):
            return path
    raise FontNotFound(tuple(searched))


def _has_cjk(path: Path) -> bool:
    try:
        font = _load_font(path, 32)
    except OSError:
        return False
    # A font without the glyph draws nothing (or a .notdef box narrower than a CJK cell).
    return font.getbbox("印")[2] > 16


def _load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    """Open ``path``; in a collection, prefer the Simplified Chinese face."""
    if path.suffix.lower() != ".ttc":
        return ImageFont.truetype(str(path), size)
    for index in range(8):
        try:
            font = ImageFont.truetype(str(path), size, index=index)
        except OSError:
            break
        if " SC" in (font.getname()[0] or ""):
            return font
    return ImageFont.truetype(str(path), size, index=0)


def draw_seal(organisation: str, style: SealStyle = SealStyle()) -> Image.Image:
    """The seal of ``organisation`` as an RGBA image with a transparent background."""
    name = organisation.strip()
    if not name or len(name) > _MAX_NAME_CHARS:
        raise ConfigurationError(f"the seal needs a name of 1 to {_MAX_NAME_CHARS} characters")
    if style.size < 64:
        raise ConfigurationError("the seal image must be at least 64 pixels wide")
    font_path = style.font_path or find_cjk_font()
    if not font_path.is_file():
        raise FontNotFound((str(font_path),))
    size = style.size * _SUPERSAMPLE
    canvas = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ink = (*style.color, 255)
    draw = ImageDraw.Draw(canvas)
    ring = round(size * 0.04)
    margin = round(size * 0.02)
    draw.ellipse((margin, margin, size - margin, size - margin), outline=ink, width=ring)
    _draw_star(draw, size / 2, size / 2, size * 0.16, ink)
    _draw_arc_text(canvas, name, font_path, ring + margin, ink)
    if style.bottom_text:
        font = _load_font(font_path, round(size * 0.075))
        draw.text((size / 2, size * 0.74), style.bottom_text, font=font, fill=ink, anchor="mm")
    return canvas.resize((style.size, style.size), Image.Resampling.LANCZOS)


def seal_png(organisation: str, style: SealStyle = SealStyle()) -> bytes:
    """``draw_seal`` encoded as PNG."""
    buffer = io.BytesIO()
    draw_seal(organisation, style).save(buffer, format="PNG")
    return buffer.getvalue()


def _draw_star(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float, ink: tuple[int, ...]) -> None:
    inner = radius * 0.382
    points = []
    for k in range(10):
        angle = math.radians(-90 + 36 * k)
        r = radius if k % 2 == 0 else inner
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    draw.polygon(points, fill=ink)


def _draw_arc_text(canvas: Image.Image, text: str, font_path: Path, inset: int, ink: tuple[int, ...]) -> None:
    size = canvas.width
    count = len(text)
    # Short names keep a fixed spacing; long ones are squeezed into at most 250 degrees.
    span = min(250.0, 24.0 * count)
    glyph = round(size * (0.13 if count <= 12 else max(0.07, 0.13 * 12 / count)))
    font = _load_font(font_path, glyph)
    radius = size / 2 - inset - glyph * 0.8
    for index, char in enumerate(text):
        angle = -span / 2 + span * (index + 0.5) / count
        tile = Image.new("RGBA", (glyph * 2, glyph * 2), (0, 0, 0, 0))
        ImageDraw.Draw(tile).text((glyph, glyph), char, font=font, fill=ink, anchor="mm")
        # Seal lettering is condensed: narrow each glyph to 80% before turning it.
        tile = tile.resize((round(tile.width * 0.8), tile.height), Image.Resampling.LANCZOS)
        tile = tile.rotate(-angle, resample=Image.Resampling.BICUBIC, expand=True)
        x = size / 2 + radius * math.sin(math.radians(angle))
        y = size / 2 - radius * math.cos(math.radians(angle))
        canvas.alpha_composite(tile, (round(x - tile.width / 2), round(y - tile.height / 2)))
