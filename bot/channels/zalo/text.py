"""Split long texts into chunks Zalo accepts (sendMessage text is 1–2000 characters).

Splitting prefers the most natural boundary that works, level by level:

1. paragraphs (blank lines), packed greedily into chunks joined by a blank line;
2. inside a paragraph that alone exceeds the limit: line breaks;
3. inside a line that alone exceeds the limit: sentence ends (``. ! ? …``);
4. inside a sentence that alone exceeds the limit: spaces;
5. only a single word longer than the limit is cut hard.

Lengths are measured in UTF-16 code units, which is what a JavaScript back end counts
and is never less than Python's ``len``: a chunk with emoji stays within the limit
whichever way the platform counts. Surrounding whitespace of each chunk is stripped and
runs of whitespace at a split point collapse, so ``" ".join(chunks).split()`` equals
``text.split()`` (except inside hard-cut words).
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["split_text", "text_length"]

DEFAULT_LIMIT: Final = 2000

# (pattern that separates units at this level, joiner used when re-packing them)
_LEVELS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"\n[ \t\r\f\v]*\n\s*"), "\n\n"),  # blank line(s)
    (re.compile(r"[ \t\r\f\v]*\n\s*"), "\n"),  # line break
    # after . ! ? … optionally followed by a closing quote/bracket
    (re.compile(r"(?<=[.!?…])\s+|(?<=[.!?…][\"'”’»)\]])\s+"), " "),
    (re.compile(r"\s+"), " "),  # spaces
)


def text_length(text: str) -> int:
    """Length in UTF-16 code units (astral characters such as most emoji count 2)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def split_text(text: str, limit: int = DEFAULT_LIMIT) -> list[str]:
    """Split ``text`` into non-empty chunks of at most ``limit`` (see module doc).

    Returns ``[]`` for empty or whitespace-only text and ``[text.strip()]`` when it fits.
    """
    if limit < 2:  # 2 so that an astral character always fits a chunk
        raise ValueError("limit must be at least 2")
    stripped = text.strip()
    if not stripped:
        return []
    return _split(stripped, limit, 0)


def _split(text: str, limit: int, level: int) -> list[str]:
    """Split stripped, non-empty ``text`` using boundary ``level`` and finer ones."""
    if text_length(text) <= limit:
        return [text]
    if level >= len(_LEVELS):
        return _hard_cut(text, limit)

    pattern, joiner = _LEVELS[level]
    parts = [p for p in (part.strip() for part in pattern.split(text)) if p]
    if len(parts) <= 1:  # no boundary of this kind: try a finer one
        return _split(text, limit, level + 1)

    chunks: list[str] = []
    current = ""
    for part in parts:
        if text_length(part) > limit:
            # The part alone is too long: split it finer. Its last piece stays open so
            # the following parts can still be packed after it.
            if current:
                chunks.append(current)
            pieces = _split(part, limit, level + 1)
            chunks.extend(pieces[:-1])
            current = pieces[-1]
            continue
        candidate = f"{current}{joiner}{part}" if current else part
        if text_length(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = part
    if current:
        chunks.append(current)
    return chunks


def _hard_cut(word: str, limit: int) -> list[str]:
    """Cut a single over-long word into pieces of at most ``limit`` UTF-16 units."""
    pieces: list[str] = []
    start = 0
    size = 0
    for i, ch in enumerate(word):
        width = 2 if ord(ch) > 0xFFFF else 1
        if size + width > limit:
            pieces.append(word[start:i])
            start, size = i, 0
        size += width
    pieces.append(word[start:])
    return pieces
