"""Zalo Bot Platform (own aiohttp client)."""

from bot.core.channel_traits import ChannelTraits, declare

TRAITS = declare(
    ChannelTraits(
        name="zalo",
        buttons=False,  # choices go as numbered lines
        files=False,  # no document upload: reports go as a download link
        images_by_url=True,  # sendPhoto takes a public URL (zalo.media_base_url)
        max_text=2000,
        linkable=True,
        redelivers_on_5xx=True,  # in webhook mode
        rate=lambda settings: settings.zalo.messages_per_second,
        bot_rate=lambda bot: bot.messages_per_second,
        configured=lambda settings: settings.zalo.token is not None,
        factory="bot.channels.zalo.channel:create_zalo_channel",
    )
)
