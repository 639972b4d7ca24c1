"""The communes a deployment serves, and which of them a bot serves.

One deployment (a province's) serves many communes; each step works in one of them
(`Context.commune`): the commune of the person writing, or of their account before
they consent. A bot that serves one commune settles it at first contact; a bot that
serves several asks, or takes it from a poster code (`xa_<code>`) or a team link.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.core.matching import FILLER_WORDS, fold

# A poster or deep-link code naming the commune: `/start xa_hoa-an`, or typed on Zalo.
COMMUNE_CODE_PREFIX = "xa_"


@dataclass(frozen=True)
class CommuneRef:
    id: int
    code: str
    name: str
    unit_label: str  # thôn / tổ dân phố / ấp / bản / buôn


@dataclass(frozen=True)
class CommuneDirectory:
    """Every commune of the deployment, and the communes each bot (channel name) serves;
    a bot not listed serves them all (the legacy `[telegram]` and `[zalo]` bots)."""

    communes: tuple[CommuneRef, ...]
    bots: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.communes:
            raise ValueError("a deployment serves at least one commune")

    def all(self) -> tuple[CommuneRef, ...]:
        return self.communes

    @property
    def only(self) -> CommuneRef | None:
        """The commune, when the deployment has exactly one."""
        return self.communes[0] if len(self.communes) == 1 else None

    def get(self, commune_id: int | None) -> CommuneRef | None:
        return next((c for c in self.communes if c.id == commune_id), None)

    def by_code(self, code: str) -> CommuneRef | None:
        wanted = code.strip().lower()
        return next((c for c in self.communes if c.code.lower() == wanted), None)

    def served_by(self, channel: str) -> tuple[CommuneRef, ...]:
        """The bot's communes, in the order its settings list them."""
        ids = self.bots.get(channel)
        if ids is None:
            return self.communes
        return tuple(c for commune_id in ids if (c := self.get(commune_id)) is not None)

    def serves(self, channel: str, commune_id: int) -> bool:
        return any(c.id == commune_id for c in self.served_by(channel))

    def from_code(self, channel: str, text: str) -> CommuneRef | None:
        """`xa_<code>` (any case) naming a commune this bot serves, else None."""
        text = text.strip()
        if not text.lower().startswith(COMMUNE_CODE_PREFIX):
            return None
        found = self.by_code(text[len(COMMUNE_CODE_PREFIX) :])
        return found if found is not None and self.serves(channel, found.id) else None

    def search(self, text: str, among: Iterable[CommuneRef] | None = None) -> list[CommuneRef]:
        """Communes whose name contains every typed word, diacritics optional
        ("hoa an", "Hòa An", "xa hoa an"); an exact name wins over partial ones."""
        pool = tuple(self.communes if among is None else among)
        words = [w for w in fold(text).split() if w not in _GENERIC]
        found = _matching(pool, words)
        polite = [w for w in words if w not in FILLER_WORDS]  # "hòa an ạ", "dạ xã tân phú"
        return found or (_matching(pool, polite) if polite != words else [])


def _matching(pool: tuple[CommuneRef, ...], words: list[str]) -> list[CommuneRef]:
    if not words:
        return []
    exact = [c for c in pool if _name_words(c) == words]
    if exact:
        return exact
    return [c for c in pool if all(w in _name_words(c) for w in words)]


# Words every commune name may carry: "xã Hòa An" and "Hòa An" are the same search.
_GENERIC = frozenset({"xa", "phuong", "dac", "khu", "thi", "tran"})


def _name_words(commune: CommuneRef) -> list[str]:
    return [w for w in fold(commune.name).split() if w not in _GENERIC]
