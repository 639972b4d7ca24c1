"""The exact commands `demo-data` suggests, ready to paste: the same data directory or
configuration as the run that printed them, through `./run` (the README's entry point;
`hocvuso` is only on PATH inside the virtual environment)."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from config.settings import CONFIG_ENV

DATA_DIR_ENV = "HOCVUSO_DATA_DIR"
ENTRY = "./run"


def command(args: str, *, data_dir: str | None = None, config: Path | None = None) -> str:
    """`HOCVUSO_DATA_DIR=data-demo ./run chat --user demo-12`: the variables that chose
    the database this run used (only paths, never a secret), then the command."""
    env = []
    data_dir = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV)
    if data_dir:
        env.append(f"{DATA_DIR_ENV}={shlex.quote(data_dir)}")
    if config is None and os.environ.get(CONFIG_ENV):
        env.append(f"{CONFIG_ENV}={shlex.quote(os.environ[CONFIG_ENV])}")
    tail = f" --config {shlex.quote(str(config))}" if config is not None else ""
    return " ".join([*env, ENTRY, args]) + tail


def fresh_data_dir(current: Path, base: str = "data-demo") -> str:
    """A data directory name that does not exist yet (or is empty) and is not `current`:
    data-demo, data-demo-2, data-demo-3, ..."""
    for n in range(1, 1000):
        name = base if n == 1 else f"{base}-{n}"
        path = Path(name)
        if path.resolve() == current.resolve():
            continue
        if not path.exists() or (path.is_dir() and not any(path.iterdir())):
            return name
    return f"{base}-{os.getpid()}"
