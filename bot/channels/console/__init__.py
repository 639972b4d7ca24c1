"""The console (`hocvuso chat`): a channel for trying the bot and for tests, not served
by `hocvuso run` (its queued messages wait until that user types)."""

from bot.core.channel_traits import ChannelTraits, declare

TRAITS = declare(
    ChannelTraits(
        name="console",
        buttons=False,
        files=True,  # written under <data_dir>/exports/
        images_by_url=False,
        max_text=100_000,
        linkable=False,
        redelivers_on_5xx=False,
    )
)
