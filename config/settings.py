"""One typed settings tree, read from a TOML file and `HOCVUSO_*` environment variables.

Environment wins over the file; nested fields use `__` (`HOCVUSO_DATABASE__URL`).
Every default works on a fresh machine: SQLite in `./data`, the bundled demo commune.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_ENV = "HOCVUSO_CONFIG"
DEFAULT_CONFIG_FILE = Path("hocvuso.toml")
BUNDLED_COMMUNE = Path(__file__).with_name("demo_commune.yaml")


class DatabaseSettings(BaseModel):
    url: str | None = None  # None: SQLite file inside data_dir
    echo: bool = False


class TelegramSettings(BaseModel):
    token: SecretStr | None = None  # the channel is on when a token is set
    mode: Literal["polling", "webhook"] = "polling"
    api_base: str = "https://api.telegram.org"
    webhook_url: str | None = None  # public https URL ending in /telegram/webhook
    webhook_secret: SecretStr | None = None


class ZaloSettings(BaseModel):
    token: SecretStr | None = None
    mode: Literal["polling", "webhook"] = "polling"
    api_base: str = "https://bot-api.zaloplatforms.com"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    messages_per_second: float = Field(default=20.0, gt=0)
    # Public base URL where lessons/ is served; sendPhoto takes a URL, not a file.
    # Unset: lesson cards go out as text only.
    media_base_url: str | None = None


class BotSettings(BaseModel):
    """One bot (a Telegram bot or a Zalo bot/Official Account) and the communes it serves.

    Its `name` is recorded as the channel of its accounts and events, so it must stay the
    same for the life of the deployment. Its webhook is `POST /webhook/<name>`."""

    model_config = {"extra": "forbid"}

    name: str = Field(pattern=r"^[a-z0-9-]{1,16}$")
    messenger: Literal["telegram", "zalo"]
    token: SecretStr
    mode: Literal["polling", "webhook"] = "polling"
    api_base: str | None = None  # None: the messenger's public API
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    communes: list[str] = []  # commune codes; empty: every commune of the deployment
    messages_per_second: float = Field(default=20.0, gt=0)  # Zalo only
    media_base_url: str | None = None  # Zalo only (see ZaloSettings)

    @property
    def webhook_path(self) -> str:
        return f"/webhook/{self.name}"

    def as_telegram(self) -> TelegramSettings:
        """This bot as the settings of a Telegram channel."""
        extra = {} if self.api_base is None else {"api_base": self.api_base}
        return TelegramSettings(
            token=self.token,
            mode=self.mode,
            webhook_url=self.webhook_url,
            webhook_secret=self.webhook_secret,
            **extra,
        )

    def as_zalo(self) -> ZaloSettings:
        """This bot as the settings of a Zalo channel."""
        extra = {} if self.api_base is None else {"api_base": self.api_base}
        return ZaloSettings(
            token=self.token,
            mode=self.mode,
            webhook_url=self.webhook_url,
            webhook_secret=self.webhook_secret,
            messages_per_second=self.messages_per_second,
            media_base_url=self.media_base_url,
            **extra,
        )


class OutboxSettings(BaseModel):
    """Queued messages (broadcasts, reminders, digests): how fast and in what batches."""

    telegram_per_second: float = Field(default=30.0, gt=0)  # Telegram's bulk limit
    telegram_per_chat_per_second: float = Field(default=1.0, gt=0)
    batch_size: int = Field(default=200, ge=1)
    concurrency: int = Field(default=8, ge=1)
    lease_seconds: int = Field(default=120, ge=5)
    poll_seconds: float = Field(default=2.0, gt=0)


class SchedulerSettings(BaseModel):
    """Background jobs: daily lesson nudges, team digests, annual report reminders.

    Hours are local (`timezone`). No scheduled message is sent in quiet hours, from
    `quiet_start`:00 to `quiet_end`:00 (equal values: no quiet hours)."""

    enabled: bool = True
    nudge_hour: int = Field(default=19, ge=0, le=23)  # for residents who chose no hour
    nudge_hours: list[int] = [7, 9, 12, 17, 19, 20]  # offered in /nhacnho
    quiet_start: int = Field(default=21, ge=0, le=23)
    quiet_end: int = Field(default=7, ge=0, le=23)
    grace_minutes: int = Field(default=60, ge=1, le=720)  # a late nudge run still counts
    digest_weekday: int = Field(default=0, ge=0, le=6)  # 0 = Monday
    digest_hour: int = Field(default=8, ge=0, le=23)  # digests and report messages
    monthly_digest_day: int = Field(default=1, ge=1, le=28)
    digest_grace_hours: int = Field(default=12, ge=1, le=72)
    annual_report_date: str = "10/12"  # DD/MM: the annual report goes to commune admins
    report_deadline: str = "15/12"  # DD/MM: the annual report is due
    deadline_reminder_days: list[int] = [3, 1]  # days before the deadline
    # "Who is behind": a weekly note to team leaders and commune admins with the digests,
    # in the last `behind_weeks` weeks before the deadline (0: never); a team with no
    # visit, survey or assisted lesson in `idle_weeks` weeks is named in it.
    behind_weeks: int = Field(default=4, ge=0, le=26)
    idle_weeks: int = Field(default=2, ge=1, le=26)
    lease_seconds: int = Field(default=30, ge=3, le=600)  # one scheduler among processes

    def is_quiet(self, hour: int) -> bool:
        start, end = self.quiet_start, self.quiet_end
        if start == end:
            return False
        return start <= hour < end if start < end else hour >= start or hour < end

    @staticmethod
    def day_month(value: str) -> tuple[int, int]:
        day, month = (int(part) for part in value.split("/"))
        return day, month

    @model_validator(mode="after")
    def _consistent(self) -> SchedulerSettings:
        for name in ("annual_report_date", "report_deadline"):
            value = getattr(self, name)
            try:
                day, month = self.day_month(value)
                date(2023, month, day)  # not a leap year: 29/02 is refused
            except ValueError:
                raise ValueError(f"{name}: expected DD/MM, got {value!r}") from None
        quiet = f"quiet hours {self.quiet_start}:00-{self.quiet_end}:00"
        for hour in [self.nudge_hour, self.digest_hour, *self.nudge_hours]:
            if not 0 <= hour <= 23:
                raise ValueError(f"hour {hour} is not between 0 and 23")
            if self.is_quiet(hour):
                raise ValueError(f"hour {hour} falls in the {quiet}")
        if not self.nudge_hours:
            raise ValueError("nudge_hours: offer at least one hour")
        if any(not 1 <= days <= 60 for days in self.deadline_reminder_days):
            raise ValueError("deadline_reminder_days: each must be 1..60")
        return self


class WebSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # Where this web app is reachable from outside (e.g. https://bot.xa-hoa-an.vn). When
    # set, officers on Zalo, which sends no files, get their reports as a download link.
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/\S*)?$")
    download_hours: int = Field(default=24, ge=1, le=168)  # how long such a link works


class FairUseSettings(BaseModel):
    """Inbound messages one messenger account may send (a token bucket per process);
    beyond it they are dropped unrecorded, with one polite word (docs/reliability.md)."""

    messages_per_second: float = Field(default=5.0, gt=0)
    burst: int = Field(default=10, ge=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HOCVUSO_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    data_dir: Path = Path("data")
    commune_file: Path = BUNDLED_COMMUNE
    # A province deployment: every *.yaml here is one commune file (commune_file unused).
    communes_dir: Path | None = None
    content_dir: Path | None = None  # None: the lessons/ and quizzes/ shipped with the code
    notice_version: str = "2026-11"  # bump when the data notice text changes
    timezone: str = "Asia/Ho_Chi_Minh"
    # A resident's question unanswered by the village team this long goes to the commune.
    questions_escalate_hours: float = Field(default=48.0, gt=0)
    database: DatabaseSettings = DatabaseSettings()
    fair_use: FairUseSettings = FairUseSettings()
    telegram: TelegramSettings = TelegramSettings()
    zalo: ZaloSettings = ZaloSettings()
    bots: list[BotSettings] = []  # more bots, each serving some communes ([[bots]])
    web: WebSettings = WebSettings()
    outbox: OutboxSettings = OutboxSettings()
    scheduler: SchedulerSettings = SchedulerSettings()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    def commune_files(self) -> list[Path]:
        """The commune files this deployment serves, in a stable order."""
        if self.communes_dir is None:
            return [self.commune_file]
        return sorted(self.communes_dir.glob("*.yaml"))

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'hocvuso.sqlite3').resolve()}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = _config_file()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)


class SettingsError(Exception):
    """Settings could not be read; the message names the file, the field and the fault."""


def _config_file() -> Path | None:
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return Path(explicit)
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists() else None


def load_settings(config_file: Path | None = None, **overrides: object) -> Settings:
    """Read settings, turning pydantic's errors into one readable `SettingsError`.

    An explicit `config_file` wins over HOCVUSO_CONFIG for this call only."""
    previous = os.environ.get(CONFIG_ENV)
    if config_file is not None:
        os.environ[CONFIG_ENV] = str(config_file)
    try:
        return _read_settings(overrides)
    finally:
        if config_file is not None:
            if previous is None:
                os.environ.pop(CONFIG_ENV, None)
            else:
                os.environ[CONFIG_ENV] = previous


def _read_settings(overrides: dict[str, object]) -> Settings:
    source = _config_file()
    if source is not None and not source.exists():
        raise SettingsError(f"{source}: configuration file not found")
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        where = str(source) if source else "environment (HOCVUSO_*)"
        lines = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            lines.append(f"{where}: {field}: {error['msg']}")
        raise SettingsError("\n".join(lines)) from None
    except (OSError, ValueError) as exc:  # e.g. TOML syntax errors
        raise SettingsError(f"{source}: {exc}") from None
