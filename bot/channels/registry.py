"""Which channels a process serves: every messenger that has a token in the settings."""

from __future__ import annotations

from bot.app import App
from bot.channels.base import Channel


def build_channels(app: App) -> list[Channel]:
    channels: list[Channel] = []
    if app.settings.telegram.token is not None:
        from bot.channels.telegram.channel import create_telegram_channel

        channels.append(create_telegram_channel(app))
    if app.settings.zalo.token is not None:
        from bot.channels.zalo.channel import create_zalo_channel

        channels.append(create_zalo_channel(app))
    return channels
