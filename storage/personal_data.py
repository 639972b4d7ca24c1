"""Which columns can hold a person's personal data, and why the others cannot.

Every text, JSON or binary column of every table is in exactly one of the two lists
(tests/test_personal_data.py compares them with the ORM metadata, so a new column fails
the tests until someone decides). A column in PERSONAL is cleared by `storage.erasure`
when its person deletes their data (/xoadulieu); the test proves it for each one.
"""

from __future__ import annotations

from sqlalchemy import JSON, LargeBinary, MetaData, String, Text

# column -> how deletion clears it
PERSONAL: dict[str, str] = {
    "people.display_name": "blanked",
    "people.phone": "blanked",
    "people.age_group": "blanked",
    "people.source": "blanked (a deep-link payload may name who brought them)",
    "channel_accounts.external_id": "their accounts are deleted",
    "channel_accounts.screen": "their accounts are deleted",
    "outbox.external_id": "rows to them: unsent deleted, sent blanked",
    "outbox.payload": "rows to them or quoting their questions: unsent deleted, sent blanked",
    "team_questions.text": "blanked",
    "team_questions.answer": "blanked",
    "link_codes.code": "their codes are deleted",
    "code_attempts.external_id": "their accounts' wrong guesses are deleted",
    "staff_roles.referral_code": "nulled (their referral link stops working)",
    "support_visits.note": "nulled on the visits they logged",
    "assisted_learning.learner_key": "replaced by its hash on rows they logged",
    "audit_log.detail": "the name given for their admin invite is removed",
    "file_downloads.filename": "files they asked for, and reports naming staff, deleted",
    "file_downloads.data": "files they asked for, and reports naming staff, deleted",
    "processed_updates.reply": "their unsent replies kept for re-sending are blanked",
    "processed_updates.reply_to": "blanked with the reply",
    "resume_points.screen": "deleted (a paused visit entry names a household and its note)",
}

# column -> why it holds no personal data of a person who can ask for deletion
NOT_PERSONAL: dict[str, str] = {
    "communes.code": "the commune's public code",
    "web_sign_ins.token_hash": "SHA-256 of a 10-minute one-time secret, no person's data",
    "web_sessions.token_hash": "SHA-256 of a session secret, no person's data",
    "web_sessions.csrf": "a random form token, no person's data",
    "communes.name": "the commune's public name",
    "communes.unit_label": "'thôn' or 'tổ dân phố'",
    "villages.code": "public village code",
    "villages.name": "public village name",
    "teams.code": "public team code",
    "teams.name": "public team name",
    "channel_accounts.channel": "the messenger's name",
    "consent_records.notice_version": "version of the notice they saw",
    "consent_records.answer": "agreed | refused | withdrawn, tied to the pseudonymous id",
    "lesson_progress.lesson_id": "content id",
    "quiz_attempts.lesson_id": "content id",
    "quiz_attempts.answers": "ids of questions and choices, tied to the pseudonymous id",
    "participation_events.kind": "anonymous event log (docs/architecture.md)",
    "participation_events.channel": "anonymous event log",
    "participation_events.lesson_id": "anonymous event log",
    "processed_updates.channel": "the messenger's name",
    "processed_updates.update_key": "the platform's update or message id, no person",
    "broadcasts.text": "a commune announcement to all residents",
    "broadcasts.image": "path of the announcement's picture",
    "broadcasts.village_codes": "public village codes",
    "outbox.dedupe_key": "kind, pseudonymous ids and dates only",
    "outbox.kind": "message kind",
    "outbox.channel": "the messenger's name",
    "outbox.status": "delivery status",
    "outbox.locked_by": "a worker process id",
    "outbox.last_error": "the messenger's error text, capped",
    "file_downloads.token_sha256": "hash of a random token",
    "file_downloads.content_type": "a MIME type",
    "link_codes.channel": "the messenger's name",
    "code_attempts.channel": "the messenger's name",
    "leases.name": "a role name",
    "leases.holder": "a worker process id",
    "staff_roles.role": "a role name",
    "households.code": "the commune's household register, not data a resident gave the bot",
    "households.resident_code": "a random code the team hands to the household",
    "resume_points.slot": "'lesson:<content id>' or 'visit'",
    "households.head_name": "the commune's household register (imported or added by the team)",
    "support_visits.services": "service ids",
    "assisted_learning.lesson_id": "content id",
    "self_reports.kind": "'course_finished' or 'platform_certified', kept anonymously like events",
    "invites.code": "a one-time code, not tied to a person until claimed",
    "invites.role": "a role name",
    "invites.created_by": "'person:<id>' or the officer's OS account",
    "audit_log.actor": "'person:<id>' or the officer's OS account",
    "audit_log.action": "an action name",
}

TEXT_TYPES = (String, Text, JSON, LargeBinary)


def text_columns(metadata: MetaData) -> set[str]:
    """`table.column` of every column that can hold free text, JSON or bytes."""
    return {
        f"{table.name}.{column.name}"
        for table in metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, TEXT_TYPES)
    }
