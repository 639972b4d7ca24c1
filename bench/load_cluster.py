"""The service side of bench/load.py: commune files, settings, a throwaway PostgreSQL
database, and the `hocvuso run` processes (web x N, scheduler x 1) with their peak RSS.

Everything here is undone by `Cluster.close()` (processes stopped, database dropped,
files removed), which bench/load.py calls on success, failure and Ctrl-C alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from config.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
VILLAGE_NAMES = ("Đông", "Tây", "Nam", "Bắc", "Trung", "Thượng")
OWN_BOT_COMMUNES = 4  # communes with a Telegram and a Zalo bot of their own; the rest share


@dataclass(frozen=True)
class CommuneSpec:
    code: str
    name: str
    villages: tuple[str, ...]  # names, as offered to residents


@dataclass
class BotSpec:
    """One messenger bot instance: its fake platform runs in the harness."""

    name: str
    messenger: str  # "telegram" | "zalo"
    secret: str
    communes: list[str]  # codes; [] = every commune
    path: str  # webhook path on every web process
    token: str = ""
    api_base: str = ""

    @property
    def shared(self) -> bool:
        return len(self.communes) != 1


def multi_commune() -> bool:
    """Whether this code base has the multi-commune settings (issue 16) yet."""
    return "communes_dir" in Settings.model_fields


def bot_instances_served() -> bool:
    """Whether the service builds a channel per `[[bots]]` entry. The settings exist
    since the multi-commune core; the channels come with the bots part of issue 16,
    which routes `/webhook/<name>` (bot/channels/registry.py then reads `bots`)."""
    import inspect

    from bot.channels import registry

    return "bots" in Settings.model_fields and ".bots" in inspect.getsource(registry)


def write_communes(folder: Path, count: int) -> list[CommuneSpec]:
    folder.mkdir(parents=True, exist_ok=True)
    communes = []
    for n in range(1, count + 1):
        spec = CommuneSpec(
            code=f"tn{n:03d}",
            name=f"Xã Thử Nghiệm {n:03d}",
            villages=tuple(f"Thôn {v}" for v in VILLAGE_NAMES),
        )
        document = {
            "commune": {
                "code": spec.code,
                "name": spec.name,
                "unit_label": "thôn",
                "launch_date": "2025-10-10",
            },
            "villages": [
                {"code": f"T{i:02d}", "name": name, "households": 100 + 7 * i}
                for i, name in enumerate(spec.villages, start=1)
            ],
            "teams": [
                {
                    "code": f"TCN-T{i:02d}",
                    "village": f"T{i:02d}",
                    "name": f"Tổ công nghệ số cộng đồng {name.lower()}",
                }
                for i, name in enumerate(spec.villages, start=1)
            ],
        }
        path = folder / f"{spec.code}.yaml"
        path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
        communes.append(spec)
    return communes


def plan_bots(communes: list[CommuneSpec], instances: bool) -> list[BotSpec]:
    """With bot instances: a Telegram and a Zalo bot of their own for the first few
    communes, one shared Telegram and one shared Zalo bot for all the others. Without
    (today's code): the legacy single `[telegram]` and `[zalo]` bots, every commune."""
    if not instances:
        return [
            BotSpec("telegram", "telegram", "load-secret-tg", [], "/telegram/webhook"),
            BotSpec("zalo", "zalo", "load-secret-zalo", [], "/zalo/webhook"),
        ]
    own = communes[: min(OWN_BOT_COMMUNES, len(communes) // 3)]  # 3 communes: 1 own, 2 shared
    rest = [c.code for c in communes[len(own) :]]
    bots = []
    for n, commune in enumerate(own, start=1):
        for messenger, short in (("telegram", "tg"), ("zalo", "zl")):
            name = f"{short}-{n:03d}"
            bots.append(
                BotSpec(name, messenger, f"secret-{name}", [commune.code], f"/webhook/{name}")
            )
    if rest:
        for messenger, short in (("telegram", "tg"), ("zalo", "zl")):
            name = f"{short}-shared"
            bots.append(BotSpec(name, messenger, f"secret-{name}", rest, f"/webhook/{name}"))
    return bots


def quiet_nudge_hour(timezone: str) -> int:
    """A nudge hour (07..20) far from now, so that no scheduled nudge lands mid-run."""
    now = datetime.now(ZoneInfo(timezone)).hour
    return max(range(7, 21), key=lambda h: min((h - now) % 24, (now - h) % 24))


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def settings_toml(
    db_url: str,
    data_dir: Path,
    communes_dir: Path,
    communes: list[CommuneSpec],
    bots: list[BotSpec],
    web_port: int,
    instances: bool,
) -> str:
    lines = [f"data_dir = {_toml(str(data_dir))}"]
    if multi_commune():
        lines.append(f"communes_dir = {_toml(str(communes_dir))}")
    else:
        lines.append(f"commune_file = {_toml(str(communes_dir / (communes[0].code + '.yaml')))}")
    lines += ["", "[database]", f"url = {_toml(db_url)}"]
    lines += [
        "",
        "[scheduler]",
        f"nudge_hour = {quiet_nudge_hour('Asia/Ho_Chi_Minh')}",
        "",
        "[fair_use]",
        "messages_per_second = 5",
        "burst = 10",
    ]
    hook = f"http://127.0.0.1:{web_port}"
    for bot in bots:
        common = {
            "token": bot.token,
            "mode": "webhook",
            "api_base": bot.api_base,
            "webhook_url": hook + bot.path,
            "webhook_secret": bot.secret,
        }
        if bot.messenger == "zalo":
            common["messages_per_second"] = 1000
        if instances:
            lines += [
                "",
                "[[bots]]",
                f"name = {_toml(bot.name)}",
                f"messenger = {_toml(bot.messenger)}",
                f"communes = {_toml(bot.communes)}",
            ]
        else:
            lines += ["", f"[{bot.name}]"]
        lines += [f"{key} = {_toml(value)}" for key, value in common.items()]
    return "\n".join(lines) + "\n"


class PgDatabase:
    """CREATE DATABASE hocvuso_load_<pid> on the server of `admin_url`; DROP on close."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.name = f"hocvuso_load_{os.getpid()}"
        self.url = admin_url.rsplit("/", 1)[0] + "/" + self.name
        self.created = False

    async def _admin(self, statement: str) -> None:
        engine = create_async_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(statement))
        finally:
            await engine.dispose()

    async def create(self) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        await self._admin(f'CREATE DATABASE "{self.name}"')
        self.created = True

    async def drop(self) -> None:
        if self.created:
            await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self.created = False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM (the peak resident set) of a live process, in MB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


@dataclass
class Process:
    name: str
    role: str
    port: int | None
    popen: subprocess.Popen[bytes]
    log_path: Path
    peak_mb: float | None = None

    def log_lines(self, *needles: str) -> list[str]:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return []
        return [line for line in lines if any(n in line for n in needles)]


@dataclass
class Cluster:
    """`hocvuso run --role web` x `web`, `--role scheduler` x 1, on one database."""

    admin_url: str
    web: int = 2
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="hocvuso-load-")))
    processes: list[Process] = field(default_factory=list)
    database: PgDatabase | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def communes_dir(self) -> Path:
        return self.workdir / "communes"

    @property
    def web_processes(self) -> list[Process]:
        return [p for p in self.processes if p.role == "web"]

    async def prepare(self, settings_text: str) -> None:
        """The database and the settings file; then the schema, once (docs/deployment.md:
        several processes starting at once on a fresh database would race to create it)."""
        assert self.database is not None
        config = self.workdir / "hocvuso.toml"
        config.write_text(settings_text)
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOCVUSO_")}
        env.update(PYTHONPATH=str(ROOT), HOCVUSO_CONFIG=str(config))
        self.env = env
        migrate = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli.main",
            "migrate",
            cwd=self.workdir,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await migrate.communicate()
        if migrate.returncode != 0:
            raise RuntimeError(f"hocvuso migrate failed:\n{out.decode(errors='replace')[-3000:]}")

    def _spawn(self, name: str, role: str, port: int | None) -> None:
        env = dict(self.env)
        if port is not None:
            env["HOCVUSO_WEB__PORT"] = str(port)
        log_path = self.workdir / f"{name}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                [sys.executable, "-m", "bot.cli.main", "run", "--role", role],
                cwd=self.workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(Process(name, role, port, popen, log_path))

    async def start(self, ports: list[int], within: float = 120.0) -> None:
        for n, port in enumerate(ports, start=1):
            self._spawn(f"web{n}", "web", port)
        self._spawn("scheduler", "scheduler", None)
        deadline = time.monotonic() + within
        waiting = list(self.processes)
        while waiting:
            for process in list(waiting):
                if process.popen.poll() is not None:
                    tail = process.log_path.read_text(errors="replace")[-3000:]
                    raise RuntimeError(
                        f"{process.name} exited ({process.popen.returncode}):\n{tail}"
                    )
                if process.log_lines('msg="service running"'):
                    waiting.remove(process)
            if time.monotonic() > deadline:
                raise RuntimeError(f"not running after {within:.0f} s: {[p.name for p in waiting]}")
            await asyncio.sleep(0.1)

    def served_channels(self) -> set[str]:
        """The channels the first web process says it serves."""
        lines = self.web_processes[0].log_lines('msg="service running"')
        found = re.search(r"channels=(\S+)", lines[0]) if lines else None
        return set(found[1].split(",")) if found else set()

    def measure_rss(self) -> dict[str, float | None]:
        for process in self.processes:
            if process.popen.poll() is None:
                process.peak_mb = peak_rss_mb(process.popen.pid)
        return {p.name: p.peak_mb for p in self.processes}

    def problems(self) -> list[str]:
        """Error lines and tracebacks the processes logged."""
        found = []
        for process in self.processes:
            for line in process.log_lines("level=error", "Traceback", "level=critical"):
                found.append(f"{process.name}: {line[:300]}")
        return found

    async def stop(self, grace: float = 20.0) -> None:
        """SIGTERM (the service's graceful stop), then SIGKILL after `grace` seconds."""
        running = [p for p in self.processes if p.popen.poll() is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in running:
            left = max(0.1, deadline - time.monotonic())
            with contextlib.suppress(subprocess.TimeoutExpired):
                await asyncio.to_thread(process.popen.wait, left)
            if process.popen.poll() is None:
                process.popen.kill()
                process.popen.wait(5)

    def kill_now(self) -> None:
        """Last resort (a second Ctrl-C, an exit path without the event loop)."""
        for process in self.processes:
            if process.popen.poll() is None:
                process.popen.kill()

    async def close(self, keep_files: bool = False) -> None:
        try:
            await self.stop()
        finally:
            try:
                if self.database is not None:
                    await self.database.drop()
            finally:
                if not keep_files:
                    shutil.rmtree(self.workdir, ignore_errors=True)
