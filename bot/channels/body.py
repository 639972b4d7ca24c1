"""Reading a webhook body as JSON without letting a hostile one escape as a 500."""

from __future__ import annotations

import json
from typing import Any


def loads(raw: str | bytes) -> Any:
    """`json.loads`, but JSON nested too deep for the parser (a RecursionError, which
    is not a ValueError) is a ValueError like any other malformed body."""
    try:
        return json.loads(raw)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc
