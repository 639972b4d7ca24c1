"""Reading a typed answer as one of the offered choices.

Zalo has no buttons, so this is how most answers arrive, typed by older residents on
small phone keyboards. A choice is recognised by:
- its number ("1", " 1 ", "1.", "số 1", "1 ạ"): numbers always mean the numbered lines;
- its label, or any word or words of it that no other choice has ("gò cao" for
  "Thôn Gò Cao"), with or without diacritics, in any case, with emoji and politeness
  words ("ạ", "vâng", "nhé") ignored;
- telex/VNI leftovers of a keyboard that did not convert ("dongy", "đồng ys", "dong y2",
  "khoong"), and one-letter slips in longer words ("kiểm tar");
- yes/no families ("có", "ừ", "ok", "đúng", "đồng ý" / "không", "ko", "thôi") when
  exactly one choice says yes (or no); with no choice saying yes, a yes (or "đọc tiếp")
  takes the one choice that goes forward ("Tiếp ▶");
- an age ("65", "65 tuổi", "trên 60", "già") on a screen whose choices are age groups,
  when the number is not one of its lines.
When several choices fit equally well the answer is ambiguous: the caller asks back
with the candidates instead of guessing. Everything is pure string work on the few
offered choices, so it is cheap enough to run on every message.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from bot.core.messages import Choice

MAX_CANDIDATES = 3  # more equally good candidates than this: not understood


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


# Words that carry politeness or filler, not a choice ("dạ, cho em chọn số 2 ạ").
_FILLERS = frozenset(
    _words("a ak ah da vang oi nhe nha nhen nhi ne voi giup dum ho minh toi em con chau bac")
    | _words("chu anh chi ban muon chon cho xin lam on di roi nao the so muc cai")
)
FILLER_WORDS = _FILLERS  # for other searches by name (bot/core/communes.py)
_YES = _words("co u uh um uhm uk ok oke okay okie oki dc duoc dung dongy vang da yes chac chan")
_NO = _words("khong ko k kg khg hong hok hem thoi no nope chua sai")
# Emoji that answer yes or no on their own; every other emoji is dropped by fold().
# Chat shorthand for a word that labels spell out.
_SHORTHAND = {
    **dict.fromkeys(("ko", "k", "kg", "khg", "khog", "kh", "hong", "hok", "hem"), "khong"),
    "dc": "duoc",
    "đc": "duoc",
    "j": "gi",
}
_EMOJI_WORDS = {"👍": " ok ", "👌": " ok ", "✅": " ok ", "👎": " khong ", "❌": " khong "}
_TONE_KEYS = "sfrxj"  # telex tone keys left at (or inside) a word
_TELEX = (("dd", "d"), ("aa", "a"), ("aw", "a"), ("ee", "e"), ("oo", "o"), ("ow", "o"),
          ("uw", "u"), ("w", "u"))  # fmt: skip
_NUMBER = re.compile(r"^\d{1,2}$")
_NEGATIVE = re.compile(r"^\s*[-−–]\s*\d")


def fold(text: str) -> str:
    """Lower-case, strip diacritics (đ -> d), emoji and punctuation; collapse spaces."""
    text = text.lower().replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    kept = []
    for char in decomposed:
        category = unicodedata.category(char)
        if category == "Mn":  # combining accent
            continue
        kept.append(char if category[0] in "LN" else " ")
    return " ".join("".join(kept).split())


@dataclass(frozen=True)
class Understood:
    """What a typed answer means on a screen: one choice, a few candidates, or nothing."""

    choice: Choice | None = None
    candidates: tuple[Choice, ...] = ()
    # A line number the screen does not have ("12" on six lines, "0", "-1"): the
    # caller says which numbers there are instead of "not understood".
    out_of_range: bool = False

    @property
    def ambiguous(self) -> bool:
        return self.choice is None and len(self.candidates) > 1


def match_choice(text: str, offered: list[Choice], *, strict: bool = False) -> Choice | None:
    """The one choice `text` names, or None (ambiguous answers included)."""
    return understand(text, offered, strict=strict).choice


def understand(text: str, offered: list[Choice], *, strict: bool = False) -> Understood:
    """Read `text` against `offered`. `strict` accepts only a number or a whole label:
    for screens that also take free text (a question must not become a choice because
    it contains the word "hủy")."""
    for emoji, word in _EMOJI_WORDS.items():
        text = text.replace(emoji, word)
    words = [_spelling(w) for w in fold(text).split()]
    if not words or not offered:
        return Understood()
    plain = [w for w in words if w not in _FILLERS] or words
    number = _number(plain if not strict else words)
    if number is not None and _NEGATIVE.match(text):
        return Understood(out_of_range=not strict)  # "-1" is no line, not line 1
    if number is not None and 1 <= number <= len(offered):
        return Understood(offered[number - 1])
    if number is not None and strict:
        return Understood()
    if not strict:
        group = _age_group(plain, offered)
        if group is not None:
            return Understood(group)
    labels = [_label_words(choice.label) for choice in offered]
    vocabulary = frozenset(w for label in labels for w in label)
    whole = _repair_all(words, vocabulary)
    polite = [w for w in whole if w not in _FILLERS]  # "bỏ qua ạ" is still "Bỏ qua"
    for candidate in (words, whole, polite):
        exact = [c for c, label in zip(offered, labels, strict=True) if label == tuple(candidate)]
        if len(exact) == 1:
            return Understood(exact[0])
        joined = "".join(candidate)
        compact = [c for c, label in zip(offered, labels, strict=True) if "".join(label) == joined]
        if len(compact) == 1:
            return Understood(compact[0])
    if strict:
        return Understood()
    polar = _polarity(whole)
    sided: list[Choice] = []
    if polar is not None:
        sided = [c for c in offered if _label_polarity(c.label) == polar]
        if len(sided) == 1:
            return Understood(sided[0])
    if (polar == "yes" and not sided) or _forward_words(whole):
        # "ok", "vâng ạ", "đọc tiếp" on a card: the one way forward, if there is one.
        forward = [c for c in offered if _label_polarity(c.label) == "forward"]
        if len(forward) == 1:
            return Understood(forward[0])
    scores = [_score(whole, label) for label in labels]
    best = max(scores)
    if best[0] == 0:
        return Understood(out_of_range=number is not None)
    top = tuple(c for c, s in zip(offered, scores, strict=True) if s == best)
    if len(top) > 1 and any(ord(ch) > 127 for ch in text):
        top = _by_accents(text, top)
    if len(top) == 1:
        return Understood(top[0])
    return Understood(candidates=top) if len(top) <= MAX_CANDIDATES else Understood()


def _accented(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text).lower()
    return "".join(ch if ch.isalnum() else " " for ch in text).split()


def _by_accents(text: str, tied: tuple[Choice, ...]) -> tuple[Choice, ...]:
    """Typed with diacritics, "đông" means "Thôn Đông", not "Thôn Đồng Mới"."""
    words = _accented(text)
    scores = [_score(words, tuple(_accented(c.label))) for c in tied]
    best = max(scores)
    kept = tuple(c for c, s in zip(tied, scores, strict=True) if s == best)
    return kept if best[0] > 0 else tied


def typed_number(text: str) -> int | None:
    """The line number in "2", "2.", "số 2", "2 ạ"; None when the text is not a number."""
    words = fold(text).split()
    return _number([w for w in words if w not in _FILLERS] or words)


def _number(words: list[str]) -> int | None:
    if len(words) == 1 and _NUMBER.match(words[0]):
        return int(words[0])
    return None


@lru_cache(maxsize=4096)
def _label_words(label: str) -> tuple[str, ...]:
    return tuple(_spelling(w) for w in fold(label).split())


def _spelling(word: str) -> str:
    """ "kĩ" and "kỹ", "lí" and "lý" are both correct spellings: compare them as one."""
    if len(word) == 2 and word[1] == "y" and word[0] in "bdhklmnstv":
        return word[0] + "i"
    return word


def _score(whole: list[str], label: tuple[str, ...]) -> tuple[int, int]:
    """How well the typed words fit one label: all of them must be found in it (filler
    words need not be, unless the label has them). More words found is better."""
    wanted = [w for w in whole if w not in _FILLERS or w in label] or whole
    if _contiguous(whole, label):
        return (3, len(whole))
    if _contiguous(wanted, label):
        return (2, len(wanted))
    if set(wanted) <= set(label):
        return (1, len(wanted))
    return (0, 0)


def _contiguous(words: list[str], label: tuple[str, ...]) -> bool:
    n = len(words)
    return any(list(label[i : i + n]) == words for i in range(len(label) - n + 1))


def _joined_yes(words: list[str]) -> list[str]:
    """ "dong y" -> "dongy", so that a two-word yes reads as one word."""
    out: list[str] = []
    for word in words:
        if word == "y" and out and out[-1] == "dong":
            out[-1] = "dongy"
        else:
            out.append(word)
    return out


def _polarity(words: list[str]) -> str | None:
    words = _joined_yes(words)
    if not all(w in _YES or w in _NO or w in _FILLERS for w in words):
        return None
    if any(w in _NO for w in words):
        return "no"
    if any(w in _YES for w in words):
        return "yes"
    return None


# Read with diacritics: "Dùng VNeID" is not "Đúng", "Đã xong" is not "Dạ".
_YES_LABEL = re.compile(r"^(?:tôi\s+)?(?:có|ừ|ok|đúng|đồng ý|vâng|được|chắc chắn)\b")
_NO_LABEL = re.compile(r"^(?:tôi\s+)?(?:không|thôi|chưa|sai)\b")
# The screen's way forward ("Tiếp ▶", "Tiếp tục"), taken by a plain yes.
_FORWARD_LABEL = re.compile(r"^(?:tiếp|tiếp tục|đọc tiếp|xem tiếp)$")
# Typed words that only ask to go on: "tiếp", "đọc tiếp", "xem tiếp đi".
_FORWARD = _words("tiep tuc doc xem sang")


def _forward_words(words: list[str]) -> bool:
    kept = [w for w in words if w not in _FILLERS]
    return "tiep" in kept and all(w in _FORWARD or w in _YES for w in kept)


@lru_cache(maxsize=1024)
def _label_polarity(label: str) -> str | None:
    """ "Có, xóa đi" and "Tôi đồng ý" say yes; "Không xóa" and "Không đồng ý" say no."""
    text = unicodedata.normalize("NFC", label).lower()
    text = " ".join("".join(ch if ch.isalnum() else " " for ch in text).split())
    if _NO_LABEL.match(text):
        return "no"
    if _YES_LABEL.match(text):
        return "yes"
    if _FORWARD_LABEL.match(text):
        return "forward"
    return None


# ----------------------------------------------------------------- ages

# Age-group labels as the catalog words them: "Dưới 35 tuổi", "Từ 35 đến 59 tuổi",
# "Từ 60 tuổi trở lên" (folded).
_AGE_BELOW = re.compile(r"^duoi (\d{1,3}) tuoi$")
_AGE_BETWEEN = re.compile(r"^tu (\d{1,3}) den (\d{1,3}) tuoi$")
_AGE_FROM = re.compile(r"^tu (\d{1,3}) tuoi tro len$")
_AGE_WORDS = _words("tuoi tren duoi hon nam nay roi ngoai gan")
_OLD_WORDS = _words("gia cao lon")  # "già", "cao tuổi", "lớn tuổi"
_OLD_FILL = _words("tuoi roi nguoi")
MIN_AGE, MAX_AGE = 10, 120  # a bare "5" is a slipped line number, not a child


@lru_cache(maxsize=1024)
def _age_range(label: str) -> tuple[int, int] | None:
    folded = fold(label)
    if match := _AGE_BELOW.match(folded):
        return (0, int(match[1]) - 1)
    if match := _AGE_BETWEEN.match(folded):
        return (int(match[1]), int(match[2]))
    if match := _AGE_FROM.match(folded):
        return (int(match[1]), MAX_AGE)
    return None


def _age_group(words: list[str], offered: list[Choice]) -> Choice | None:
    """The age group an age names ("65", "toi 65 tuoi", "tren 60", "gia"), on a screen
    offering age groups; a number that is one of the lines was read as that line."""
    ranges = [(c, r) for c in offered if (r := _age_range(c.label)) is not None]
    if not ranges:
        return None
    numbers = [int(w) for w in words if w.isdigit() and len(w) <= 3]
    others = [w for w in words if not w.isdigit()]
    if not numbers:  # "già", "cao tuổi", "người lớn tuổi": the oldest group
        if set(others) & _OLD_WORDS and set(others) <= _OLD_WORDS | _OLD_FILL:
            return max(ranges, key=lambda item: item[1][1])[0]
        return None
    if len(numbers) != 1 or not set(others) <= _AGE_WORDS:
        return None
    age = numbers[0] + (1 if "tren" in others or "hon" in others else 0)
    age -= 1 if "duoi" in others else 0
    if not MIN_AGE <= age <= MAX_AGE:
        return None
    found = [c for c, (low, high) in ranges if low <= age <= high]
    return found[0] if len(found) == 1 else None


# ----------------------------------------------------------------- typing slips


def _repair_all(words: list[str], vocabulary: frozenset[str]) -> list[str]:
    known = vocabulary | _YES | _NO | _FILLERS
    out: list[str] = []
    for word in words:
        out.extend(_repair(word, known, vocabulary))
    return out


def _repair(word: str, known: frozenset[str], vocabulary: frozenset[str]) -> list[str]:
    """The word as meant: itself when known, else a telex/VNI/typo repair that lands on
    a known word (or two known words typed together), else itself unchanged."""
    if word in vocabulary or _NUMBER.match(word):
        return [word]
    if word in _SHORTHAND:  # only when no label has the word itself ("hổng" is a word)
        return [_SHORTHAND[word]]
    if word in known:
        return [word]
    for variant in _variants(word):
        if variant in known:
            return [variant]
        split = _split(variant, known)
        if split is not None:
            return split
    near = _near(word, vocabulary)
    return [near] if near is not None else [word]


def _variants(word: str) -> list[str]:
    variants = [word]
    if any(ch.isdigit() for ch in word) and any(ch.isalpha() for ch in word):
        variants.append(re.sub(r"\d", "", word))  # VNI: "y2", "d9o6ng"
    for base in list(variants):
        telex = base
        for typed, meant in _TELEX:
            telex = telex.replace(typed, meant)
        if telex != base:
            variants.append(telex)
    for base in list(variants):  # a tone key left in the word: "ys", "hocj", "hojc"
        for i, ch in enumerate(base):
            if ch in _TONE_KEYS and len(base) > 1:
                variants.append(base[:i] + base[i + 1 :])
    return variants


def _split(word: str, known: frozenset[str]) -> list[str] | None:
    """ "dongy" -> ["dong", "y"]: two words typed without the space."""
    for i in range(1, len(word)):
        if word[:i] in known and word[i:] in known:
            return [word[:i], word[i:]]
    return None


def _near(word: str, vocabulary: frozenset[str]) -> str | None:
    """The one label word within one slip (two for long words) of `word`."""
    if len(word) < 3:
        return None
    if len(word) == 3:  # short words: only two letters swapped ("tar" for "tra")
        close = {v for v in vocabulary if len(v) == 3 and _swapped(word, v)}
        return close.pop() if len(close) == 1 else None
    limit = 2 if len(word) >= 7 else 1
    close = {v for v in vocabulary if len(v) >= 4 and _distance(word, v, limit) <= limit}
    return close.pop() if len(close) == 1 else None


def _swapped(a: str, b: str) -> bool:
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and a[diff[0]] == b[diff[1]]
        and a[diff[1]] == b[diff[0]]
    )


def _distance(a: str, b: str, limit: int) -> int:
    """Edit distance with transpositions, giving up above `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]
