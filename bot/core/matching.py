"""Reading a typed answer as one of the offered choices.

Residents type "1", " 1 ", "1.", the label, or the label without diacritics
("dong y" for "Đồng ý"). Zalo has no buttons, so this is how most answers arrive.
"""

from __future__ import annotations

import re
import unicodedata

from bot.core.messages import Choice

_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


def fold(text: str) -> str:
    """Lower-case, strip diacritics (đ -> d), emoji and punctuation; collapse spaces."""
    text = text.lower().replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    kept = []
    for char in decomposed:
        category = unicodedata.category(char)
        if category == "Mn":  # combining accent
            continue
        kept.append(char if category[0] in "LN" else " ")
    return " ".join("".join(kept).split())


def match_choice(text: str, offered: list[Choice]) -> Choice | None:
    number = _NUMBER.match(text)
    if number:
        index = int(number.group(1)) - 1
        return offered[index] if 0 <= index < len(offered) else None
    wanted = fold(text)
    if not wanted:
        return None
    exact = [choice for choice in offered if fold(choice.label) == wanted]
    if len(exact) == 1:
        return exact[0]
    return None
