"""Every code a person types or follows (invites, bare or prefixed; account-link
codes; referral posters) counts toward one guess limit per account: past it, even a
right code is refused until the lockout ends."""

from __future__ import annotations

from bot.team.invites import create_invite
from storage.guesses import LOCKOUT, MAX_WRONG
from tests.support import Chat, make_app


async def test_all_codes_share_one_guess_limit(db_url, tmp_path, clock):
    app = await make_app(db_url, tmp_path, clock)
    try:
        t = app.engine.services.texts
        async with app.database.transaction() as session:
            invite = await create_invite(
                session,
                role="commune_admin",
                commune_id=app.engine.services.communes.only.id,
                team=None,
                uses=1,
                days=7,
                actor="cli:test",
                now=clock(),
            )
        guesser = Chat(app, user="guesser", channel="zalo")
        await guesser.start("ref_ZZZZZZZZ")  # a poster code that does not exist
        await guesser.text("ZZZZZZZ1")  # a bare invite-shaped guess: ordinary text...
        assert t("team.join.too_many", minutes=15) not in guesser.all_text()
        await guesser.text("123456")  # account-link codes
        await guesser.text("654321")
        assert MAX_WRONG == 5
        await guesser.text("inv_ZZZZZZZ2")  # the fifth wrong code, of a fourth kind
        assert t("team.join.invalid") in guesser.all_text()

        locked = t("team.join.too_many", minutes=15)
        await guesser.text(invite.code)  # right, but bare codes are guesses too
        assert locked in guesser.all_text()
        await guesser.text(f"inv_{invite.code}")
        assert locked in guesser.all_text()
        await guesser.start(f"inv_{invite.code}")  # a deep link counts the same
        assert locked in guesser.all_text()

        clock.advance(seconds=LOCKOUT.total_seconds() + 1)
        await guesser.text(invite.code)
        text = guesser.all_text()
        assert locked not in text and t("team.join.invalid") not in text
        assert "agree" in guesser.choice_ids  # the invite's consent comes first
    finally:
        await app.close()
