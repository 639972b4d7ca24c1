"""the basic programme is recorded when it is completed: programme_completed events

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 18:00:00

Reports used to decide "completed the basic programme" from today's core lessons, so a
closed period's figures changed whenever a lesson joined the core set. The bot now writes
a `programme_completed` event with the pass that covers the core set of that moment
(`bot.programme`). This backfills the event for the data already there, from the core
set the app starts with (`Database.migrate(core_lessons=...)`; for `hocvuso migrate`,
the configured content directory, else the shipped lessons): for each person (linked
accounts together) the quiz pass at which every core lesson had been passed once, with
that pass's account, village, team and channel.
No schema change: `kind` is a string column.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BACKFILL = """
WITH passes AS (
    SELECT e.id, e.occurred_at, e.lesson_id,
           coalesce(p.merged_into_person_id, e.person_id) AS person_key
    FROM participation_events e LEFT JOIN people p ON p.id = e.person_id
    WHERE e.kind = 'quiz_passed' AND e.lesson_id IN :core
),
firsts AS (
    SELECT person_key, lesson_id, min(occurred_at) AS passed_at
    FROM passes GROUP BY person_key, lesson_id
),
done AS (
    SELECT person_key, max(passed_at) AS done_at
    FROM firsts GROUP BY person_key HAVING count(*) = :count
),
chosen AS (
    SELECT min(passes.id) AS id
    FROM passes JOIN done
      ON done.person_key = passes.person_key AND done.done_at = passes.occurred_at
    GROUP BY passes.person_key
)
INSERT INTO participation_events
    (occurred_at, kind, person_id, commune_id, village_id, team_id, channel, lesson_id)
SELECT e.occurred_at, 'programme_completed', e.person_id, e.commune_id, e.village_id,
       e.team_id, e.channel, e.lesson_id
FROM participation_events e JOIN chosen ON chosen.id = e.id
"""


def core_lessons() -> list[str]:
    """The core set the app runs with: handed in by the app at start, else read from the
    configured content directory (`hocvuso migrate`), else the shipped lessons."""
    given = context.config.attributes.get("core_lessons")
    if given is not None:
        return sorted(set(given))
    from bot.content.loader import default_content_root, load_curriculum
    from config.settings import load_settings

    try:
        root = load_settings().content_dir or default_content_root()
    except Exception:  # settings are checked where they are used; the lessons still count
        root = default_content_root()
    return sorted(set(load_curriculum(root).core_lesson_ids()))


def backfill(connection: sa.Connection, core: Sequence[str]) -> None:
    """Append one event per person who passed every lesson of `core`."""
    if not core:
        return
    statement = sa.text(BACKFILL).bindparams(sa.bindparam("core", expanding=True))
    connection.execute(statement, {"core": list(core), "count": len(set(core))})


def upgrade() -> None:
    backfill(op.get_bind(), core_lessons())


def downgrade() -> None:
    op.execute("DELETE FROM participation_events WHERE kind = 'programme_completed'")
