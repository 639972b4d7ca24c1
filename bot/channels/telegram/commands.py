"""The command menu Telegram shows next to the text box (setMyCommands)."""

from __future__ import annotations

from aiogram.types import BotCommand

from bot.core.texts import Texts

# The one list of resident commands on Telegram; descriptions live in the catalog
# under `telegram.commands.<name>`.
COMMANDS = (
    "menu",
    "baihoc",
    "tiendo",
    "nhacnho",
    "hoicanbo",
    "lienket",
    "huongdan",
    "dulieu",
    "xoadulieu",
)


def bot_commands(texts: Texts) -> list[BotCommand]:
    return [
        BotCommand(command=name, description=texts(f"telegram.commands.{name}"))
        for name in COMMANDS
    ]
