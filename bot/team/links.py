"""Deep links and codes people share: invites (`inv_<code>`) and referrals (`ref_<code>`).

Telegram opens `https://t.me/<bot>?start=<payload>`; Zalo has no deep links, so there the
person sends the payload itself as their first message.
"""

from __future__ import annotations

INVITE_PREFIX = "inv_"
REFERRAL_PREFIX = "ref_"


def deep_link(payload: str, username: str | None) -> str | None:
    if not username:
        return None
    return f"https://t.me/{username}?start={payload}"
