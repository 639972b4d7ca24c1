"""A resident's own data: see it (/dulieu), change village, delete it (/xoadulieu)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.core import channel_traits
from bot.core.clean import shown_name
from bot.core.context import Context
from bot.core.messages import Outbound
from bot.core.screens import command, screen
from bot.core.screens.learning import menu_choice
from storage import erasure, repo, team_repo
from storage.models import ChannelAccount, ConsentRecord, Village
from storage.team_models import Household


def _capitalised(label: str) -> str:
    """ "thôn" -> "Thôn" at the start of a line; the rest stays as written."""
    return label[:1].upper() + label[1:]


@screen
class MyDataScreen:
    name = "mydata"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        person = ctx.person
        if person is None:
            return Outbound(ctx.t("mydata.none"), (menu_choice(ctx),))
        village = await ctx.session.get(Village, person.village_id) if person.village_id else None
        consent = await ctx.session.scalar(
            select(ConsentRecord)
            .where(ConsentRecord.person_id == person.id, ConsentRecord.answer == "agreed")
            .order_by(ConsentRecord.at.desc())
            .limit(1)
        )
        channels = await ctx.session.scalars(
            select(ChannelAccount.channel).where(ChannelAccount.person_id == person.id)
        )
        progress = await repo.progress_by_lesson(ctx.session, person.id)
        household = (
            await ctx.session.get(Household, person.household_id) if person.household_id else None
        )
        none = ctx.t("mydata.empty")
        text = ctx.t(
            "mydata.text",
            name=shown_name(person.display_name) or none,
            unit=_capitalised(ctx.commune.unit_label),
            village=village.name if village else none,
            age=ctx.t(f"age.groups.{person.age_group}") if person.age_group else none,
            household=household.resident_code if household else none,
            channels=", ".join(sorted({ctx.t(channel_traits.label_key(c)) for c in channels})),
            lessons=len(progress),
            passed=sum(1 for row in progress.values() if row.passed_at is not None),
            questions=await team_repo.count_questions_of(ctx.session, person.id),
            consent_date=consent.at.astimezone(ctx.services.tz).strftime("%d/%m/%Y")
            if consent
            else none,
            version=consent.notice_version if consent else none,
        )
        if person.phone:  # never asked for; shown only if one was ever stored
            text += "\n" + ctx.t("mydata.phone", phone=person.phone)
        return Outbound(
            text,
            (
                ctx.choice("village", "mydata.change_village", unit=ctx.commune.unit_label),
                ctx.choice("age", "mydata.change_age"),
                ctx.choice("delete", "mydata.delete"),
                menu_choice(ctx),
            ),
        )

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id == "village":
            ctx.goto("village", page=0, back="mydata")
        elif choice_id == "age":
            ctx.goto("age", back="mydata")
        elif choice_id == "delete":
            ctx.goto("delete_confirm")
        else:
            ctx.goto("menu")


@screen
class DeleteConfirmScreen:
    name = "delete_confirm"

    async def render(self, ctx: Context, args: dict[str, Any]) -> Outbound:
        return Outbound(
            ctx.t("delete.ask"),
            (ctx.choice("yes", "delete.yes"), ctx.choice("no", "delete.no")),
        )

    async def choose(self, ctx: Context, args: dict[str, Any], choice_id: str) -> None:
        if choice_id != "yes" or ctx.person is None:
            ctx.say(ctx.t("delete.kept"))
            ctx.goto("menu")
            return
        await erasure.delete_person_data(
            ctx.session,
            ctx.person,
            at=ctx.now,
            channel=ctx.channel,
            notice_version=ctx.services.notice_version,
        )
        ctx.account_deleted = True
        ctx.out.append(Outbound(ctx.t("delete.done"), (ctx.choice("restart", "delete.restart"),)))


command("dulieu", "mydata", needs_person=True)
command("xoadulieu", "delete_confirm", needs_person=True)
