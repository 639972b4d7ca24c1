"""One deployment, three communes, two bots (one shared by two communes): residents land
in the right commune by bot, by poster code and by choice, and staff of one commune reach
nothing of another (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from bot.core import roles as r
from bot.operations import NotAllowed, NotFound, actor_for
from bot.operations import reports as report_ops
from bot.operations import visits as visit_ops
from storage import team_repo
from storage.models import Village
from tests.province_support import ALONE_BOT, SHARED_BOT, commune, province_app
from tests.support import Chat
from tests.team_support import person_of
from tests.web_support import signed_in, web_client


@pytest.fixture
async def app(db_url, tmp_path, clock):
    built = await province_app(db_url, tmp_path, clock)
    yield built
    await built.close()


def said(chat: Chat) -> str:
    return chat.all_text()


async def joined(
    app, channel: str, user: str, *, start: str | None = None, pick: str | None = None
):
    """A resident who consents on `channel` (choosing `pick` when asked for a commune)."""
    chat = Chat(app, user=user, channel=channel)
    await chat.start(start)
    if pick is not None:
        await chat.choose(f"c:{pick}")
    await chat.choose("agree")
    return chat


async def test_a_bot_serving_one_commune_needs_no_question(app) -> None:
    chat = Chat(app, user="u1", channel=ALONE_BOT)
    await chat.start()
    assert "Xã Hòa An chỉ xem số liệu tổng hợp" in said(chat)
    await chat.choose("agree")
    assert "Thôn Đông" in [c.label for c in chat.last.choices] and "v:T01" in chat.choice_ids
    person = await person_of(app, chat)
    assert person.commune_id == commune(app, "hoa-an").id


async def test_a_shared_bot_asks_and_offers_only_its_communes(app) -> None:
    chat = Chat(app, user="u1", channel=SHARED_BOT)
    await chat.start()
    assert said(chat).startswith("Xin chào! 👋") and "Bạn ở xã (phường) nào?" in said(chat)
    assert chat.choice_ids == ["c:tan-phu", "c:tan-hoa"]
    # Nothing else works before the commune is known, and nothing is stored of them.
    await chat.text("/menu")
    assert chat.choice_ids == ["c:tan-phu", "c:tan-hoa"]
    assert "Xin chào" not in said(chat)  # asked again, briefly: not the whole welcome
    await chat.text("4")
    assert said(chat).startswith("Bạn gõ số từ 1 đến 2 nhé.") and "Xin chào" not in said(chat)
    await chat.choose("c:hoa-an")  # forged: a commune this bot does not serve
    assert "đã cũ" in said(chat) and chat.choice_ids == ["c:tan-phu", "c:tan-hoa"]
    await chat.choose("c:tan-hoa")
    assert "Phường Tân Hòa chỉ xem số liệu tổng hợp" in said(chat)
    assert "Xin chào" not in said(chat)  # greeted once, with the commune question
    await chat.choose("agree")
    assert "tổ dân phố nào của Phường Tân Hòa" in said(chat)
    assert "v:K01" in chat.choice_ids and "v:T01" not in chat.choice_ids
    await chat.choose("v:K02")
    person = await person_of(app, chat)
    assert person.commune_id == commune(app, "tan-hoa").id
    async with app.database.session() as session:
        village = await session.get(Village, person.village_id)
    assert village is not None and village.code == "K02"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("tan phu", "tan-phu"),
        ("Tân Hòa", "tan-hoa"),
        ("xa tan phu", "tan-phu"),
        ("hoa", "tan-hoa"),
        ("dạ, xã Tân Phú ạ", "tan-phu"),  # politeness is not part of the name
    ],
)
async def test_a_commune_typed_by_name_with_or_without_diacritics(app, typed, expected) -> None:
    chat = Chat(app, user="u1", channel=SHARED_BOT)
    await chat.start()
    await chat.text(typed)
    assert chat.choice_ids[:2] == ["agree", "refuse"], said(chat)
    await chat.choose("agree")
    assert (await person_of(app, chat)).commune_id == commune(app, expected).id


async def test_a_name_two_communes_share_is_asked_back_and_an_unknown_one_said(app) -> None:
    chat = Chat(app, user="u1", channel=SHARED_BOT)
    await chat.start()
    await chat.text("tan")
    assert "giống" in said(chat)
    assert chat.choice_ids == ["c:tan-phu", "c:tan-hoa", "again"]
    await chat.text("Hòa An")  # a commune of the province, but not of this bot
    assert "chưa tìm thấy xã “Hòa An”" in said(chat)
    assert said(chat).count("Xin chào") == 0  # asked again, not greeted again
    await chat.text("2")
    assert "Phường Tân Hòa" in said(chat)


async def test_a_poster_code_settles_the_commune_as_link_or_typed(app) -> None:
    linked = Chat(app, user="u1", channel=SHARED_BOT)
    await linked.start("xa_tan-phu")
    assert "Xã Tân Phú chỉ xem số liệu tổng hợp" in said(linked)
    typed = Chat(app, user="u2", channel=SHARED_BOT)
    await typed.text("XA_TAN-HOA")  # Zalo has no deep links: the code is the first message
    assert "Phường Tân Hòa chỉ xem số liệu tổng hợp" in said(typed)
    elsewhere = Chat(app, user="u3", channel=SHARED_BOT)
    await elsewhere.start("xa_hoa-an")  # not served by this bot: asked instead
    assert elsewhere.choice_ids == ["c:tan-phu", "c:tan-hoa"]


async def test_a_team_poster_settles_the_commune_and_attributes_the_team(app) -> None:
    chat = Chat(app, user="u1", channel=SHARED_BOT)
    await chat.start("team_TP-P03")
    assert "Xã Tân Phú chỉ xem số liệu tổng hợp" in said(chat)
    await chat.choose("agree")
    person = await person_of(app, chat)
    async with app.database.session() as session:
        team = await team_repo.team_by_code(session, commune(app, "tan-phu").id, "TP-P03")
    assert person.commune_id == commune(app, "tan-phu").id
    assert team is not None and person.attributed_team_id == team.id


async def test_the_same_messenger_user_on_two_bots_is_two_residents(app) -> None:
    one = await joined(app, ALONE_BOT, "same-id")
    two = await joined(app, SHARED_BOT, "same-id", pick="tan-phu")
    first, second = await person_of(app, one), await person_of(app, two)
    assert first.id != second.id
    assert (first.commune_id, second.commune_id) == (
        commune(app, "hoa-an").id,
        commune(app, "tan-phu").id,
    )


async def staff(app, channel: str, user: str, role: str, code: str, pick: str | None = None):
    chat = await joined(app, channel, user, pick=pick)
    person = await person_of(app, chat)
    async with app.database.transaction() as session:
        await team_repo.grant_role(
            session,
            person_id=person.id,
            role=role,
            commune_id=commune(app, code).id,
            team_id=None,
            now=app.engine.services.clock(),
        )
    return chat


async def test_an_admin_of_one_commune_may_do_nothing_in_another(app, clock) -> None:
    chat = await staff(app, ALONE_BOT, "admin-a", r.COMMUNE_ADMIN, "hoa-an")
    a, b = commune(app, "hoa-an"), commune(app, "tan-phu")
    person = await person_of(app, chat)
    async with app.database.transaction() as session:
        village_b = await team_repo.village_by_code(session, b.id, "P01")
        assert village_b is not None
        home_b = await team_repo.add_household(session, village_b.id, "P01-001", None, clock.now)
    async with app.database.session() as session:
        # Every action of the role matrix, in the other commune and in its village: no.
        roles_b = await r.roles_for(session, person, b.id)
        for action in r.ACTIONS:
            assert not r.permitted(person, roles_b, b.id, village_b, action), action
            assert not r.permitted(person, roles_b, b.id, None, action), action
        # Acting in their own commune on the other commune's things: no either.
        roles_a = await r.roles_for(session, person, a.id)
        for action in r.ACTIONS:
            assert not r.permitted(person, roles_a, a.id, village_b, action), action
        actor = await actor_for(session, person, a)
        with pytest.raises(NotFound):  # an admin is told "no such village" in their commune
            await report_ops.scope_for(session, actor, a, "P01")
        with pytest.raises(NotAllowed):
            await visit_ops.household_for(session, actor, a, home_b.id, visit_ops.ACTION)
        # Staff of the other commune are not "admins" here: only their own commune's.
        assert await team_repo.admin_person_ids(session, b.id) == []


async def test_an_admin_on_the_web_sees_only_their_commune(app) -> None:
    admin = await staff(app, SHARED_BOT, "admin-b", r.COMMUNE_ADMIN, "tan-phu", pick="tan-phu")
    async with web_client(app) as client:
        first = await signed_in(client, admin)
        page = await first.text()
        assert "Xã Tân Phú" in page and "Xã Hòa An" not in page
        assert (await client.get("/web/thon/P01")).status == 200
        other = await client.get("/web/thon/T01")  # a village of Hòa An
        assert other.status == 404
        listing = await (await client.get("/web/thon")).text()
        assert "Thôn Phú Lợi" in listing and "Thôn Đông" not in listing
        export = await client.get("/web/bao-cao/tai?ky=m&dang=csv")
        assert export.status == 200
        body = (await export.read()).decode("utf-8-sig")
        assert "Thôn Phú Lợi" in body and "Thôn Đông" not in body


async def test_links_made_in_chat_name_the_telegram_bot_of_the_commune(app) -> None:
    from bot.team.options import telegram_username_in

    services = app.engine.services
    services.telegram_usernames.update({ALONE_BOT: "hoaan_bot", "tg-tan": "@tan_bot"})
    services.telegram_username = "hoaan_bot"  # the first Telegram bot that started
    a, b = commune(app, "hoa-an"), commune(app, "tan-phu")
    assert telegram_username_in(services, ALONE_BOT, a.id) == "hoaan_bot"
    assert telegram_username_in(services, "tg-tan", b.id) == "tan_bot"  # the chat's own bot
    # On the shared Zalo bot: a Telegram bot serving the commune, not another commune's.
    services.communes.bots["tg-tan"] = (b.id,)  # type: ignore[index]
    assert telegram_username_in(services, SHARED_BOT, b.id) == "tan_bot"
    assert telegram_username_in(services, SHARED_BOT, a.id) == "hoaan_bot"


@pytest.mark.parametrize("fault", ["twice", "yml", "empty", "missing"])
async def test_a_province_folder_fault_is_one_vietnamese_line(fault, tmp_path) -> None:
    from bot.app import load_commune_files
    from config.commune import CommuneFileError
    from config.settings import Settings
    from tests.province_support import write_communes

    folder = write_communes(tmp_path / "communes")
    if fault == "twice":
        (folder / "copy.yaml").write_text((folder / "tan-phu.yaml").read_text("utf-8"), "utf-8")
        expected = "mã xã tan-phu đã có trong tệp"
    elif fault == "yml":
        (folder / "tan-hoa.yaml").rename(folder / "tan-hoa.yml")
        expected = "tan-hoa.yml: tệp thông tin xã phải có đuôi .yaml"
    elif fault == "empty":
        for path in folder.glob("*.yaml"):
            path.unlink()
        expected = "không có tệp thông tin xã nào (*.yaml)"
    else:
        folder = tmp_path / "nowhere"
        expected = "(thư mục này không tồn tại)"
    with pytest.raises(CommuneFileError) as raised:
        load_commune_files(Settings(communes_dir=folder))
    assert expected in str(raised.value)
