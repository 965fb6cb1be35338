"""The round red seal is drawn, not shipped: ring, arc text, star, optional bottom line."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from signing import ConfigurationError, FontNotFound, SealStyle, draw_seal, find_cjk_font, seal_png


def _pixel(image: Image.Image, x: float, y: float) -> bytes:
    return image.crop((round(x), round(y), round(x) + 1, round(y) + 1)).tobytes()


def _is_red(pixel: bytes) -> bool:
    red, green, blue, alpha = pixel
    return alpha > 200 and red > 150 and green < 90 and blue < 90


def _alpha_max(image: Image.Image) -> int:
    return max(image.tobytes()[3::4], default=0)


def test_seal_has_transparent_background_red_ring_and_star() -> None:
    image = draw_seal("福州市鼓楼区市场监督管理局", SealStyle(size=300))
    assert image.mode == "RGBA" and image.size == (300, 300)
    assert _pixel(image, 2, 2)[3] == 0 and _pixel(image, 297, 297)[3] == 0
    assert _is_red(_pixel(image, 150, 150))  # the star's centre
    assert _is_red(_pixel(image, 150, 300 * 0.02 + 300 * 0.04 / 2))  # top of the ring
    raw = image.tobytes()
    red_pixels = sum(1 for i in range(0, len(raw), 4) if _is_red(raw[i : i + 4]))
    assert 0.08 < red_pixels / (300 * 300) < 0.5


def test_arc_text_and_bottom_line_are_drawn() -> None:
    plain = draw_seal("某单位", SealStyle(size=300, bottom_text=None))
    longer = draw_seal("某某某某某某单位", SealStyle(size=300, bottom_text=None))
    marked = draw_seal("某单位", SealStyle(size=300, bottom_text="电子印章"))
    band = (60, 200, 240, 245)
    assert _alpha_max(plain.crop(band)) == 0
    assert _alpha_max(marked.crop(band)) > 0
    upper = (20, 20, 280, 110)
    assert longer.crop(upper).tobytes() != plain.crop(upper).tobytes()


def test_png_output_and_font_discovery() -> None:
    assert seal_png("某单位").startswith(b"\x89PNG\r\n\x1a\n")
    assert find_cjk_font().is_file()


def test_bad_inputs_raise_typed_errors(tmp_path: Path) -> None:
    with pytest.raises(FontNotFound):
        draw_seal("某单位", SealStyle(font_path=tmp_path / "missing.ttc"))
    with pytest.raises(ConfigurationError):
        draw_seal("  ")
    with pytest.raises(ConfigurationError):
        draw_seal("很" * 41)
