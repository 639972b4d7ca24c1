"""The documents' serif face: Liberation Serif, shipped in `fonts/` under the SIL Open
Font License 1.1 (see fonts/LICENSE).

Administrative documents are set in Times New Roman (Nghị định 30/2020/NĐ-CP), which
is not free to ship; Liberation Serif has the same metrics, so a page set in it lays
out as in Times New Roman, and it has every Vietnamese glyph. Shipping it keeps the PDF
the same on every machine, with no system fonts needed.
"""

from __future__ import annotations

from pathlib import Path

FONT_DIR = Path(__file__).with_name("fonts")

# fpdf2 style -> file
SERIF = {
    "": "LiberationSerif-Regular.ttf",
    "B": "LiberationSerif-Bold.ttf",
    "I": "LiberationSerif-Italic.ttf",
    "BI": "LiberationSerif-BoldItalic.ttf",
}


def serif_files() -> dict[str, Path]:
    return {style: FONT_DIR / name for style, name in SERIF.items()}
