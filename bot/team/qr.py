"""QR codes as PNG files, for a team member to show on their phone or print."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import segno

_SAFE = re.compile(r"[^A-Za-z0-9_-]")


def qr_png(folder: Path, name: str, data: str) -> Path:
    """Write (once) and return the absolute path of `folder/qr/<name>.png` encoding `data`.

    The file name carries a hash of the data, so a changed link gets a new file."""
    target_dir = (folder / "qr").resolve()
    target_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(data.encode()).hexdigest()[:10]
    path = target_dir / f"{_SAFE.sub('_', name)}-{digest}.png"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        # Medium error correction and a generous scale: readable when printed small.
        segno.make(data, error="m", micro=False).save(tmp, kind="png", scale=10, border=4)
        tmp.replace(path)  # atomic: a concurrent reader never sees half a file
    return path
