"""Which channels a process serves: every declared messenger its settings configure
(for Telegram and Zalo, a token). A channel's package is imported only then."""

from __future__ import annotations

from bot.app import App
from bot.channels.base import Channel
from bot.core import channel_traits


def build_channels(app: App) -> list[Channel]:
    return [
        traits.create(app)
        for traits in channel_traits.declared().values()
        if traits.configured(app.settings)
    ]
