"""Settings and the commune file: defaults need nothing; errors say file, field, fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.commune import CommuneFileError, load_commune_file
from config.settings import BUNDLED_COMMUNE, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for key in list(__import__("os").environ):
        if key.startswith("HOCVUSO_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def test_defaults_need_nothing():
    settings = load_settings()
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.database_url.endswith("data/hocvuso.sqlite3")
    assert settings.commune_file == BUNDLED_COMMUNE
    assert settings.telegram.token is None and settings.zalo.token is None


def test_environment_with_nested_delimiter(monkeypatch):
    monkeypatch.setenv("HOCVUSO_DATABASE__URL", "postgresql+asyncpg://u@h/db")
    monkeypatch.setenv("HOCVUSO_TELEGRAM__TOKEN", "123:abc")
    settings = load_settings()
    assert settings.database_url == "postgresql+asyncpg://u@h/db"
    assert settings.telegram.token.get_secret_value() == "123:abc"
    assert "123:abc" not in repr(settings)  # secrets never printed


def test_toml_file_and_env_precedence(monkeypatch, tmp_path):
    path = tmp_path / "hocvuso.toml"
    path.write_text('data_dir = "/srv/x"\n[zalo]\nmode = "webhook"\n', encoding="utf-8")
    monkeypatch.setenv("HOCVUSO_DATA_DIR", "/srv/env")
    settings = load_settings(path)
    assert settings.zalo.mode == "webhook"
    assert settings.data_dir == Path("/srv/env")


def test_bad_setting_names_file_and_field(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[telegram]\nmode = "carrier-pigeon"\n', encoding="utf-8")
    with pytest.raises(SettingsError) as err:
        load_settings(path)
    assert str(path) in str(err.value) and "telegram.mode" in str(err.value)


def test_unknown_setting_is_refused(tmp_path):
    path = tmp_path / "typo.toml"
    path.write_text('databse = "x"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="databse"):
        load_settings(path)


def test_bundled_commune_is_valid():
    data = load_commune_file(BUNDLED_COMMUNE)
    assert data.commune.unit_label == "thôn"
    assert len(data.villages) == 12 and len(data.teams) == 12


def test_commune_errors_name_file_and_field(tmp_path):
    path = tmp_path / "xa.yaml"
    path.write_text(
        "commune: {code: x, name: Xã X, unit_label: làng, launch_date: 2025-10-10}\n"
        "villages:\n  - {code: T1, name: Thôn 1, households: -5}\n",
        encoding="utf-8",
    )
    with pytest.raises(CommuneFileError) as err:
        load_commune_file(path)
    assert f"{path}: villages.0.households:" in str(err.value)


def test_commune_team_must_name_a_known_village(tmp_path):
    path = tmp_path / "xa.yaml"
    path.write_text(
        "commune: {code: x, name: Xã X, unit_label: tổ dân phố, launch_date: 2025-10-10}\n"
        "villages:\n  - {code: T1, name: Tổ 1, households: 50}\n"
        "teams:\n  - {code: A, village: T9, name: Tổ CNSCĐ}\n",
        encoding="utf-8",
    )
    with pytest.raises(CommuneFileError, match="unknown village T9"):
        load_commune_file(path)


def test_missing_commune_file(tmp_path):
    with pytest.raises(CommuneFileError, match="not found"):
        load_commune_file(tmp_path / "nope.yaml")


def test_example_settings_file_is_valid():
    example = Path(__file__).resolve().parents[1] / "config" / "hocvuso.example.toml"
    settings = load_settings(example)
    assert settings.scheduler.quiet_start == 21 and settings.outbox.telegram_per_second == 30
