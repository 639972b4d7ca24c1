"""Which channels a process serves: every declared messenger its settings configure
(the legacy `[telegram]` / `[zalo]` bots, for a token), and one channel per `[[bots]]`
entry, named after the bot. A channel's package is imported only then."""

from __future__ import annotations

from bot.app import App
from bot.channels.base import Channel
from bot.core import channel_traits


def build_channels(app: App) -> list[Channel]:
    channels = [
        traits.create(app)
        for traits in channel_traits.declared().values()
        if traits.configured(app.settings)
    ]
    for bot in app.settings.bots:
        channels.append(channel_traits.declared()[bot.messenger].create(app, bot))
    return channels
