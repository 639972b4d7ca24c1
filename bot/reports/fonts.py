"""Fonts with every Vietnamese glyph, found inside matplotlib (no system fonts needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

TTF_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"

# fpdf2 style -> file, for the serif face used in the PDF (closest to Times New Roman,
# which administrative documents use but which is not free to ship).
SERIF = {
    "": "DejaVuSerif.ttf",
    "B": "DejaVuSerif-Bold.ttf",
    "I": "DejaVuSerif-Italic.ttf",
    "BI": "DejaVuSerif-BoldItalic.ttf",
}


def serif_files() -> dict[str, Path]:
    return {style: TTF_DIR / name for style, name in SERIF.items()}
