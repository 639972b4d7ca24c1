"""Telegram (aiogram). Declared here without importing aiogram: the SDK is loaded only
when a Telegram bot is configured and its channel is built."""

from bot.core.channel_traits import ChannelTraits, declare

TRAITS = declare(
    ChannelTraits(
        name="telegram",
        buttons=True,
        files=True,
        images_by_url=False,  # uploads the lesson image file
        max_text=4096,
        linkable=True,
        redelivers_on_5xx=True,
        rate=lambda settings: settings.outbox.telegram_per_second,
        per_chat_rate=lambda settings: settings.outbox.telegram_per_chat_per_second,
        configured=lambda settings: settings.telegram.token is not None,
        factory="bot.channels.telegram.channel:create_telegram_channel",
    )
)
