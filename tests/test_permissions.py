"""`roles.permitted`: the one permission rule, a pure function the chat, the web and the
CLI all ask (no database, no chat context)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.roles import Grant, Roles, permitted
from storage.models import Person, Village

COMMUNE, OTHER = 1, 2
HOME = Village(id=10, commune_id=COMMUNE, code="T01", name="Thôn Đông")
NEXT_DOOR = Village(id=11, commune_id=COMMUNE, code="T02", name="Thôn Tây")
ELSEWHERE = Village(id=20, commune_id=OTHER, code="T01", name="Thôn Đông")


def person(deleted: bool = False) -> Person:
    return Person(id=5, commune_id=COMMUNE, deleted_at=datetime.now(UTC) if deleted else None)


def holding(*grants: Grant) -> Roles:
    return Roles((Grant("resident", COMMUNE, village_id=HOME.id), *grants))


MEMBER = holding(Grant("member", COMMUNE, team_id=3, village_id=HOME.id))
ADMIN = holding(Grant("commune_admin", COMMUNE))
DEPLOYMENT = holding(Grant("deployment_admin", None))
PROVINCE = holding(Grant("province_officer", None))


def test_a_member_acts_in_their_own_village_only() -> None:
    assert permitted(person(), MEMBER, COMMUNE, HOME, "log_visit")
    assert not permitted(person(), MEMBER, COMMUNE, NEXT_DOOR, "log_visit")
    assert not permitted(person(), MEMBER, COMMUNE, None, "broadcast")


def test_an_admin_acts_in_every_village_of_their_commune_and_nowhere_else() -> None:
    assert permitted(person(), ADMIN, COMMUNE, NEXT_DOOR, "village_view")
    assert permitted(person(), ADMIN, COMMUNE, None, "broadcast")
    assert not permitted(person(), ADMIN, OTHER, None, "broadcast")
    assert not permitted(person(), ADMIN, COMMUNE, ELSEWHERE, "village_view")  # not this commune's
    assert not permitted(person(), ADMIN, COMMUNE, HOME, "log_visit")  # a team's job
    assert permitted(person(), DEPLOYMENT, OTHER, None, "admin_tools")


def test_nobody_and_a_deleted_person_may_do_nothing() -> None:
    assert not permitted(None, ADMIN, COMMUNE, None, "broadcast")
    assert not permitted(person(deleted=True), ADMIN, COMMUNE, None, "broadcast")
    assert permitted(person(), holding(), COMMUNE, None, "ask_team")


def test_a_province_officer_sees_every_communes_figures_and_nothing_personal() -> None:
    for commune in (COMMUNE, OTHER):
        assert permitted(person(), PROVINCE, commune, None, "province_reports")
    assert permitted(person(), DEPLOYMENT, OTHER, None, "province_reports")
    for action in ("village_view", "admin_tools", "answer_questions", "broadcast", "team_members"):
        assert not permitted(person(), PROVINCE, COMMUNE, None, action)
        assert not permitted(person(), PROVINCE, COMMUNE, HOME, action)
    for roles in (MEMBER, ADMIN, holding()):
        assert not permitted(person(), roles, COMMUNE, None, "province_reports")
