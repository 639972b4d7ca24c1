"""The console channel: `hocvuso chat` in a terminal, or JSON lines for scripts and tests.

JSONL contract (one object per line on stdin):
  {"start": "payload"}   first contact or /start, payload may be ""
  {"text": "..."}        typed text (a number or label selects a choice)
  {"choice": "<id>"}     a button press by choice id
  {"poll": true}         nothing typed: only show the messages that are due
  optional "update_id": "..." on any line: repeated ids are processed once
For each input line the bot writes its messages as
  {"text": ..., "choices": [{"id": ..., "label": ...}], "image": ..., "document": ...}
("document": the file a report was written to, under <data_dir>/exports/),
with the messages queued for this user that are due (a team's answer, a broadcast, a
reminder, a visit to confirm), each with "queued": true: those that arrived while the
user was away before the reply, those the step itself queued after it. Then
{"waiting": true}.
Exit code 0 at end of input.

The console is a delivery channel like the messengers: the outbox keeps its messages
until the user is present, then this loop shows them under the same rules as the
outbox worker (not before their time, not after they expire, unasked-for ones held
during quiet hours).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from bot.channels.numbered import render_plain
from bot.core.engine import Engine
from bot.core.messages import Document, Inbound, Kind, Outbound
from bot.outbox import quiet_hours_hold
from storage import outbox

CHANNEL = "console"
POLL_SECONDS = 2.0  # interactive mode: how often to look for messages while waiting


def inbound_from_json(line: dict[str, Any], user_id: str, name: str | None) -> Inbound:
    update_key = str(line["update_id"]) if "update_id" in line else None
    common = {
        "channel": CHANNEL,
        "user_id": user_id,
        "display_name": name,
        "update_key": update_key,
    }
    if "start" in line:
        return Inbound(kind=Kind.START, payload=str(line["start"] or "") or None, **common)
    if "choice" in line:
        return Inbound(kind=Kind.CHOICE, payload=str(line["choice"]), **common)
    if "media" in line:
        return Inbound(kind=Kind.MEDIA, payload=str(line["media"]), **common)
    return Inbound(kind=Kind.TEXT, text=str(line.get("text", "")), **common)


def save_document(document: Document, data_dir: Path) -> Path:
    """Write a document the bot handed over to <data_dir>/exports/ and return its path."""
    folder = data_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / Path(document.filename).name
    path.write_bytes(document.data)
    return path


def message_json(message: Outbound, data_dir: Path = Path("data"), *, queued: bool = False) -> str:
    data: dict[str, Any] = {
        "text": message.text,
        "choices": [{"id": c.id, "label": c.label} for c in message.choices],
    }
    if message.image:
        data["image"] = message.image
    if message.document is not None:
        data["document"] = str(save_document(message.document, data_dir))
    if queued:
        data["queued"] = True
    return json.dumps(data, ensure_ascii=False)


async def delivered(engine: Engine, user_id: str) -> list[Outbound]:
    """The outbox's messages for this console user that are due now, marked sent."""
    services = engine.services
    now = services.clock()
    held = quiet_hours_hold(services.scheduler, services.tz)(now)
    async with engine.database.transaction() as session:
        rows = await outbox.take_for_account(
            session, channel=CHANNEL, external_id=user_id, now=now, held_kinds=held
        )
    return [message for row in rows for message in outbox.decode(row.payload)]


async def run_jsonl(
    engine: Engine, user_id: str, name: str | None, src: TextIO, out: TextIO
) -> None:
    for raw in src:
        raw = raw.strip()
        if not raw:
            continue
        try:
            line = json.loads(raw)
            if not isinstance(line, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            out.write(json.dumps({"error": f"bad input line: {exc}"}) + "\n")
            out.write('{"waiting": true}\n')
            out.flush()
            continue
        data_dir = engine.services.data_dir
        # What arrived while the user was away comes first, as a messenger would have
        # shown it already; then the reply; then anything this very step queued.
        for message in await delivered(engine, user_id):
            out.write(message_json(message, data_dir, queued=True) + "\n")
        if "poll" not in line:  # {"poll": true}: only look for new messages
            reply = await engine.handle(inbound_from_json(line, user_id, name))
            for message in reply.messages:
                out.write(message_json(message, data_dir) + "\n")
            for message in await delivered(engine, user_id):
                out.write(message_json(message, data_dir, queued=True) + "\n")
        out.write('{"waiting": true}\n')
        out.flush()


async def run_interactive(engine: Engine, user_id: str, name: str | None) -> None:
    texts = engine.services.texts

    def show(messages: list[Outbound], *, queued: bool = False) -> None:
        for message in messages:
            if queued:
                print(texts("console.queued"))
            if message.image:
                print(f"[🖼 {message.image}]")
            print(render_plain(CHANNEL, message, texts))
            if message.document is not None:
                print(f"[📎 {save_document(message.document, engine.services.data_dir)}]")
            print()

    reply = await engine.handle(Inbound(CHANNEL, user_id, Kind.START, display_name=name))
    while True:
        show(reply.messages)
        show(await delivered(engine, user_id), queued=True)
        typing = asyncio.ensure_future(asyncio.to_thread(input, "> "))
        while not typing.done():  # messages due while the user reads arrive on their own
            await asyncio.wait({typing}, timeout=POLL_SECONDS)
            if not typing.done() and (queued := await delivered(engine, user_id)):
                print()
                show(queued, queued=True)
                print("> ", end="", flush=True)
        try:
            typed = typing.result()
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if typed.strip() in {"/thoat", "/quit", "/exit"}:
            return
        reply = await engine.handle(
            Inbound(CHANNEL, user_id, Kind.TEXT, text=typed, display_name=name)
        )


def stdin() -> TextIO:
    sys.stdin.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
    return sys.stdin
