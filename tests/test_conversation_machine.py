"""Random conversations of several residents, with the content edited under them.

A Hypothesis state machine interleaves taps on offered choices, forged button ids,
typed text (numbers, labels without diacritics, commands, odd and overlong strings),
stickers, and content reloads that swap between the shipped curriculum and an edited
one (a quiz shortened with its options reordered, a lesson cut to two cards, a lesson
removed). After every step: the resident got a reply in Vietnamese, never the error
text, and the choices shown are those stored as the account's screen (so the next tap
is judged against what the resident actually saw). SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from dataclasses import replace

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from bot.app import App
from bot.content.model import Curriculum
from bot.core.messages import Inbound, Kind, Reply
from storage.models import ChannelAccount
from tests.support import make_app

VIETNAMESE = re.compile(
    r"[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]", re.IGNORECASE
)
ODD_TEXTS = [
    "1", "2", "3", "0", "9", "99", "-1", "1.", " 2 ", "dong y", "Đồng ý", "khong",
    "tiep", "Tiếp ▶", "hoc tiep", "menu", "ok", "🙂", "???", "a1", "l:vneid-co-ban",
    "/menu", "/baihoc", "/tiendo", "/huongdan", "/nhacnho", "/dulieu", "/hoicanbo",
    "/khongco", "/start", "/start team_TCN-T01", "/", "x" * 1200, "\u200b", "  ",
    "Bài này khó quá", "H015", "19 giờ", "thẻ 3",
]  # fmt: skip
FORGED_IDS = [
    "a0", "a3", "a9", "a-1", "a", "ax", "next", "prev", "quiz", "retry", "reread",
    "l:khong-co", "t:khong-co", "v:T99", "agree", "menu", "catalogue", "mydata", "h:1",
    "q:1", "vok", "x" * 80, "",
]  # fmt: skip
# What a keen resident taps first, in this order (patterns of choice ids).
FORWARD = [
    re.compile(p) for p in ("agree$", "v:", "age:", "next$", "quiz$", r"a\d+$", "retry$", "l:")
]
_runs = itertools.count()


def edited(curriculum: Curriculum) -> Curriculum:
    """The shipped content after a week of edits: the first lesson is removed, the
    second one's quiz keeps three questions with the first one's options reversed, the
    third lesson is cut to two cards. Residents learn the first lesson under the
    shipped content and the second under the edited one, so reloads catch them mid-way
    through both."""
    ids = list(curriculum.lessons)
    lessons, quizzes = dict(curriculum.lessons), dict(curriculum.quizzes)
    quiz = quizzes[ids[1]]
    first, *rest = quiz.questions[:3]
    first = replace(first, options=tuple(reversed(first.options)))
    quizzes[ids[1]] = replace(quiz, questions=(first, *rest))
    lessons[ids[2]] = replace(lessons[ids[2]], cards=lessons[ids[2]].cards[:2])
    del lessons[ids[0]], quizzes[ids[0]]
    return replace(curriculum, lessons=lessons, quizzes=quizzes)


class Conversations(RuleBasedStateMachine):
    loop: asyncio.AbstractEventLoop
    app: App
    versions: tuple[Curriculum, Curriculum]

    def __init__(self) -> None:
        super().__init__()
        self.run = next(_runs)
        self.version = 0
        self.last: dict[str, Reply] = {}
        self.app.engine.services.curriculum = self.versions[0]

    residents = Bundle("residents")

    @initialize(target=residents, name=st.sampled_from(["Bà Lan", "Ông Ba", "Cô Tư"]))
    def first_resident(self, name: str) -> str:
        return self._new(name)

    @rule(target=residents, name=st.sampled_from(["Chú Năm", "Bác Sáu"]))
    def another_resident(self, name: str) -> str:
        return self._new(name)

    def _new(self, name: str) -> str:
        user = f"r{self.run}-{len(self.last)}"
        self.step(user, Kind.START)
        return user

    def step(self, user: str, kind: Kind, *, text: str | None = None, payload: str | None = None):
        inbound = Inbound("console", user, kind, text=text, payload=payload, display_name="Lan")
        self.last[user] = self.loop.run_until_complete(self.app.engine.handle(inbound))
        self.check(user)

    def stored(self, user: str) -> ChannelAccount | None:
        async def load() -> ChannelAccount | None:
            async with self.app.database.session() as session:
                return await session.scalar(
                    select(ChannelAccount).where(
                        ChannelAccount.channel == "console", ChannelAccount.external_id == user
                    )
                )

        return self.loop.run_until_complete(load())

    def check(self, user: str) -> None:
        reply = self.last[user]
        texts = self.app.engine.services.texts
        assert reply.messages, "no reply"
        said = "\n".join(m.text for m in reply.messages)
        assert said.strip() and VIETNAMESE.search(said), f"not Vietnamese: {said!r}"
        assert texts("common.error") not in said, said
        assert texts("common.db_down") not in said, said
        account = self.stored(user)
        if account is None:  # deleted their data: the farewell is the last word
            return
        shown = [[c.id, c.label] for c in reply.messages[-1].choices]
        assert shown == account.screen["offered"], (shown, account.screen)

    @rule(user=residents, pick=st.integers(min_value=0, max_value=20))
    def tap_an_offered_choice(self, user: str, pick: int) -> None:
        account = self.stored(user)
        offered = account.screen.get("offered", []) if account is not None else []
        if offered:
            self.step(user, Kind.CHOICE, payload=offered[pick % len(offered)][0])
        else:
            self.step(user, Kind.START)

    @rule(user=residents, times=st.integers(min_value=1, max_value=30))
    def keep_learning(self, user: str, times: int) -> None:
        """Tap forward as a keen resident would (consent, village, a lesson, its cards,
        its quiz), so that runs reach the middle of lessons and quizzes, where a
        content edit matters."""
        for _ in range(times):
            account = self.stored(user)
            offered = [c for c, _label in account.screen.get("offered", [])] if account else []
            forward = next((c for p in FORWARD for c in offered if p.match(c)), None)
            if forward is None:
                self.step(user, Kind.TEXT, text="/menu")
            else:
                self.step(user, Kind.CHOICE, payload=forward)

    @rule(user=residents, forged=st.sampled_from(FORGED_IDS) | st.text(max_size=12))
    def tap_a_forged_button(self, user: str, forged: str) -> None:
        self.step(user, Kind.CHOICE, payload=forged)

    @rule(user=residents, typed=st.sampled_from(ODD_TEXTS) | st.text(max_size=24))
    def type_something(self, user: str, typed: str) -> None:
        self.step(user, Kind.TEXT, text=typed)

    @rule(user=residents, pick=st.integers(min_value=0, max_value=20))
    def type_the_number_of_a_choice(self, user: str, pick: int) -> None:
        account = self.stored(user)
        count = len(account.screen.get("offered", [])) if account is not None else 0
        self.step(user, Kind.TEXT, text=str(pick % count + 1) if count else "1")

    @rule(user=residents)
    def send_a_sticker(self, user: str) -> None:
        self.step(user, Kind.MEDIA, payload="sticker")

    @rule()
    def reload_the_content(self) -> None:
        self.version = 1 - self.version
        self.app.engine.services.curriculum = self.versions[self.version]


def test_random_conversations_under_content_reloads(db_url, tmp_path, clock):
    # Hypothesis drives the machine synchronously; each step runs the engine on a loop
    # of this test's own, where the app (and its connection pool) was built.
    loop = asyncio.new_event_loop()
    app = loop.run_until_complete(make_app(db_url, tmp_path, clock))
    shipped = app.engine.services.curriculum

    class Machine(Conversations):
        pass

    Machine.loop, Machine.app, Machine.versions = loop, app, (shipped, edited(shipped))
    try:
        run_state_machine_as_test(
            Machine,
            settings=settings(
                max_examples=15,
                database=None,  # no .hypothesis/ folder in the worktree
                stateful_step_count=30,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    finally:
        loop.run_until_complete(app.close())
        loop.close()
