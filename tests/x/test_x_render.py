"""Rendering for X DMs and the public invitation (connectors/x/render.py).

split_text is checked against rules restated here: parts fit (in UTF-16 units and in code
points), they rebuild the text up to the whitespace at each cut, and no cut falls inside a
surrogate pair, before a combining mark / variation selector / skin tone, around a ZWJ that
joins two characters, inside a flag or a CR LF, unless that cluster alone exceeds the limit.
"""

from __future__ import annotations

import inspect
import unicodedata

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from connectors.x.render import (
    DM_MAX_CHARS,
    invitation_text,
    map_reply,
    pack,
    post_link,
    render_buttons,
    render_image,
    split_text,
    utf16_length,
)
from permanence.x_costs import has_url

ZWJ = "\u200d"
NO_BREAK = set("\u00a0\u2007\u202f\u2060\ufeff")


def utf16(text: str) -> int:
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def is_control(char: str) -> bool:
    category = unicodedata.category(char)
    if category == "Cf":
        return char not in (ZWJ, "\u200c") and not 0xE0020 <= ord(char) <= 0xE007F
    return category in ("Cc", "Zl", "Zp")


def is_extender(char: str) -> bool:
    point = ord(char)
    return (unicodedata.category(char) in ("Mn", "Me", "Mc") or 0xFE00 <= point <= 0xFE0F
            or 0x1F3FB <= point <= 0x1F3FF or 0xE0020 <= point <= 0xE007F
            or point == 0x200C or 0xDC00 <= point <= 0xDFFF)


def regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def hangul_kind(char: str) -> str:
    """The Hangul syllable type of a character (UAX #29): L, V, T, LV, LVT or ''."""
    cp = ord(char)
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        return "L"
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return "V"
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return "T"
    if 0xAC00 <= cp <= 0xD7A3:
        return "LV" if (cp - 0xAC00) % 28 == 0 else "LVT"
    return ""


def hangul_joins(before: str, after: str) -> bool:
    """GB6-GB8: conjoining jamo form one cluster (« \u1100\u1161\u11a8 » is one syllable)."""
    b, a = hangul_kind(before), hangul_kind(after)
    return ((b == "L" and a in ("L", "V", "LV", "LVT")) or (b in ("LV", "V") and a in ("V", "T"))
            or (b in ("LVT", "T") and a == "T"))


def forbidden_cut(text: str, k: int) -> bool:
    """True if cutting ``text`` between k-1 and k separates what must stay together."""
    if k <= 0 or k >= len(text):
        return False
    before, after = text[k - 1], text[k]
    if before == "\r" and after == "\n":
        return True
    if 0xD800 <= ord(before) <= 0xDBFF and 0xDC00 <= ord(after) <= 0xDFFF:
        return True
    if (is_extender(after) or after == ZWJ) and not is_control(before):
        return True
    if (before == ZWJ and k >= 2 and not is_control(text[k - 2]) and not after.isspace()
            and not is_control(after) and after != ZWJ and not regional(after)):
        return True
    if hangul_joins(before, after):
        return True
    if regional(before) and regional(after):
        run = 0  # regional indicators pair from the start of their run
        while k - 1 - run >= 0 and regional(text[k - 1 - run]):
            run += 1
        return run % 2 == 1
    return False


def forced(text: str, k: int, limit: int) -> bool:
    """The cluster around k, as the rules above join it, is longer than the limit."""
    start, end = k, k
    while start > 0 and forbidden_cut(text, start):
        start -= 1
    while end < len(text) and forbidden_cut(text, end):
        end += 1
    return utf16(text[start:end]) > limit


def check_split(text: str, parts: list[str], limit: int) -> None:
    if not text.strip():
        assert parts == []
        return
    if utf16(text) <= limit:
        assert parts == [text]
        return
    position = 0
    for part in parts:
        assert part and 0 < utf16(part) <= limit and len(part) <= limit
        start = position
        while not text.startswith(part, start):
            assert start < len(text), "parts do not rebuild the text"
            assert breakable(text[start]), "cut at a non-space or a no-break space"
            start += 1
        for cut in (start, start + len(part)):
            assert not forbidden_cut(text, cut) or forced(text, cut, limit), cut
        position = start + len(part)
    assert text[position:].isspace() or position == len(text)
    for part in parts:  # the whitespace at each cut is dropped
        joined_space = len(part) > 1 and (is_extender(part[1]) or part[1] == ZWJ)
        assert not breakable(part[0]) or joined_space
        assert not breakable(part[-1])


def breakable(char: str) -> bool:
    return char.isspace() and char not in NO_BREAK


TOKENS = [
    "a", "mot", "Bonjour", "l'administration", "préfecture", "10\u00a0000", "Vraiment\u00a0?",
    ".", "!", "?", "…", "»", "« ", " ", "  ", "\n", "\n\n", "\r\n", "\t", "\u2028", "\u2029",
    "e\u0301", "👍", "👍🏽", "❤️", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷", "🇫🇷🇧🇪", "🇫", "1️⃣",
    "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
    "\u200b", "\u200c", ZWJ, "\u200e", "\u200f", "\u2066", "\u2069", "\ufeff",
    "שלום", "مَرْحَبًا", "עִברִית", "\u202bמימין\u202c", "한국어", "\u1100\u1161\u11a8",
    "\ud83d\ude00",  # a surrogate pair kept as two code points
    "https://x.com/messages/compose?recipient_id=1",
]
pieces = st.one_of(
    st.sampled_from(TOKENS),
    st.text(alphabet=st.characters(exclude_categories=("Cs", "Mn", "Me", "Mc")), max_size=12),
)
texts = st.lists(pieces, max_size=120).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, limit=st.integers(min_value=2, max_value=90))
@example(text="\u1100\u1161\u11a8\u200c", limit=3)  # a jamo syllable and ZWNJ: 4 > 3
def test_split_properties_small_limits(text: str, limit: int) -> None:
    check_split(text, split_text(text, limit), limit)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(block=st.lists(pieces, min_size=20, max_size=80).map("".join), repeat=st.integers(1, 40))
def test_split_properties_long_texts(block: str, repeat: int) -> None:
    text = block
    while len(text) <= 12_000:
        text += block * repeat + " "
    parts = split_text(text)
    check_split(text, parts, DM_MAX_CHARS)
    assert len(parts) >= 2


def test_default_limit_is_the_dm_limit() -> None:
    assert DM_MAX_CHARS == 10_000
    assert split_text("x" * 10_000) == ["x" * 10_000]
    assert split_text("x" * 10_001) == ["x" * 10_000, "x"]


def test_short_and_blank_texts() -> None:
    assert split_text("  Bonjour  ") == ["  Bonjour  "]
    assert split_text("") == []
    assert split_text(" \n\t ") == []
    with pytest.raises(ValueError):
        split_text("abc", 1)


def test_paragraph_then_sentence_then_word() -> None:
    first, second = "A" * 6_000, "B" * 6_000
    assert split_text(f"{first}\n\n{second}") == [first, second]
    sentence = "Phrase " + "x" * 3_000 + "."
    text = " ".join([sentence] * 5)
    parts = split_text(text)
    assert [part.count("Phrase") for part in parts] == [3, 2]
    assert all(part.endswith(".") for part in parts)
    words = " ".join(["mot"] * 5_000)  # 19,999 characters, no sentence end
    parts = split_text(words)
    assert all(part.startswith("mot") and part.endswith("mot") for part in parts)
    assert " ".join(parts) == words


def test_a_late_paragraph_break_wins_over_a_later_sentence_end() -> None:
    text = "a" * 7_000 + ".\n\n" + "b" * 2_000 + ". " + "c" * 3_000
    assert split_text(text)[0] == "a" * 7_000 + "."


def test_an_early_paragraph_break_is_not_taken() -> None:
    text = "a" * 1_000 + "\n\n" + "b " * 6_000
    parts = split_text(text)
    assert utf16(parts[0]) > DM_MAX_CHARS // 2


def test_emoji_count_two_units() -> None:
    parts = split_text("😀" * 6_000)
    assert parts == ["😀" * 5_000, "😀" * 1_000]


def test_zwj_families_are_never_cut() -> None:
    family = "👨‍👩‍👧‍👦"  # 7 code points, 11 UTF-16 units
    parts = split_text(family * 3_000)
    per_part = DM_MAX_CHARS // utf16(family)
    assert [len(part) // len(family) for part in parts[:-1]] == [per_part] * (len(parts) - 1)
    assert all(part == family * (len(part) // len(family)) for part in parts)


def test_flags_and_combining_marks_stay_whole() -> None:
    for unit in ("🇫🇷", "e\u0301", "❤️", "1️⃣"):
        text = unit * 7_001
        parts = split_text(text)
        assert all(part == unit * (len(part) // len(unit)) for part in parts)


def test_no_break_spaces_are_not_cut_at() -> None:
    text = ("10\u00a0000\u00a0€ " * 1_200)
    parts = split_text(text)
    assert all(not part.startswith("000") for part in parts)


def test_an_oversized_cluster_is_cut_between_code_points() -> None:
    text = "e" + "\u0301" * 15_000
    parts = split_text(text)
    assert "".join(parts) == text
    assert [len(part) for part in parts] == [10_000, 5_001]


# Packing a turn's messages


def test_pack_joins_short_messages_in_order() -> None:
    assert pack(["Je suis un assistant.", "Acceptez-vous ?\n\n1. Oui"]) == [
        "Je suis un assistant.\n\nAcceptez-vous ?\n\n1. Oui"]
    assert pack([]) == []
    assert pack(["seul"]) == ["seul"]


def test_pack_never_exceeds_the_limit_nor_cuts_a_part() -> None:
    parts = ["a" * 6_000, "b" * 3_998, "c" * 10, "😀" * 3_000, "d"]
    packed = pack(parts)
    # 6,000 + 2 + 3,998 = 10,000 fits exactly; "c" would not; the emoji count 2 units each.
    assert packed == ["a" * 6_000 + "\n\n" + "b" * 3_998, "c" * 10 + "\n\n" + "😀" * 3_000
                      + "\n\n" + "d"]
    assert all(utf16_length(text) <= DM_MAX_CHARS for text in packed)


@given(st.lists(st.text(min_size=1, max_size=300), max_size=30),
       st.integers(min_value=2, max_value=600))
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_pack_properties(parts: list[str], limit: int) -> None:
    parts = [piece for part in parts for piece in split_text(part, limit)]
    packed = pack(parts, limit)
    assert "\n\n".join(packed) == "\n\n".join(parts)
    assert all(utf16_length(text) <= limit for text in packed)
    assert len(packed) <= len(parts)


# Buttons

BUTTONS = [{"title": "J'accepte", "payload": "/affirm"},
           {"title": "Je refuse", "payload": "/deny"}]


def test_render_buttons() -> None:
    text, mapping = render_buttons("Acceptez-vous ?", BUTTONS)
    assert text == "Acceptez-vous ?\n\n1. J'accepte\n2. Je refuse"
    assert mapping == {"1": "/affirm", "2": "/deny"}


def test_render_buttons_skips_unusable_buttons() -> None:
    buttons = [{"title": "  ", "payload": "/x"}, "bad", {"payload": "/y"},
               {"title": "Autre\nchose"}, *BUTTONS]
    text, mapping = render_buttons("", buttons)
    assert text == "1. Autre chose\n2. J'accepte\n3. Je refuse"
    assert mapping == {"1": "Autre\nchose", "2": "/affirm", "3": "/deny"}
    assert render_buttons("Texte", []) == ("Texte", {})


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("1", "/affirm"), ("1.", "/affirm"), (" 2 ", "/deny"), ("2)", "/deny"),
        ("j'accepte", "/affirm"), ("J ACCEPTE", "/affirm"), ("J’accepte !", "/affirm"),
        ("jaccepte", "/affirm"), ("Jé refusé", "/deny"), ("1. J'accepte", "/affirm"),
        ("3", None), ("0", None), ("12", None), ("bonjour", None), ("", None), ("?!", None),
        ("J'accepte mais", None), ("1 2", None),
    ],
)
def test_map_reply(reply: str, expected: str | None) -> None:
    assert map_reply(reply, BUTTONS) == expected


def test_map_reply_numbers_match_the_rendering() -> None:
    buttons = [{"title": ""}, *BUTTONS]
    _, mapping = render_buttons("", buttons)
    for number, payload in mapping.items():
        assert map_reply(number, buttons) == payload


def test_map_reply_ambiguous_or_without_options() -> None:
    twins = [{"title": "Oui", "payload": "/a"}, {"title": "OUI !", "payload": "/b"}]
    assert map_reply("oui", twins) is None
    assert map_reply("1", []) is None


# Images and invitation


def test_render_image() -> None:
    url = "https://www.cabinet-exemple.fr/schema.png"
    assert render_image(url, "Voici le schéma.") == f"Voici le schéma.\n{url}"
    assert render_image(f" {url} ", None) == url
    assert render_image(url, "  ") == url
    with pytest.raises(ValueError):
        render_image("javascript:alert(1)", "x")


LINK = "https://x.com/messages/compose?recipient_id={}"


@pytest.mark.parametrize("variant", [*range(0, 12), 999, 100_000])
@pytest.mark.parametrize("dm_link", [False, True])
def test_invitation_fits_a_tweet(variant: int, dm_link: bool) -> None:
    username, account_id = "a" * 15, "9" * 20  # the longest handle and id
    text = invitation_text(username, account_id, variant=variant, dm_link=dm_link)
    assert len(text) <= 280
    assert all(ord(char) < 4352 for char in text)  # each character weighs 1 for X
    assert (LINK.format(account_id) in text) is dm_link
    assert f"@{username}" in text
    assert "message privé" in text and "assistant automatisé" in text


def test_without_the_setting_the_invitation_has_no_url() -> None:
    # A post with a URL costs $0.20 on X, a summoned reply without one $0.01.
    for variant in range(12):
        text = invitation_text("Cabinet_Exemple", "1072250532645998596", variant=variant)
        assert not has_url(text) and "x.com" not in text and "1072250532645998596" not in text
        linked = invitation_text("Cabinet_Exemple", "1072250532645998596", variant=variant,
                                 dm_link=True)
        assert has_url(linked)
        # The link is followed by « ) », never glued to a word X would take into the URL.
        assert LINK.format("1072250532645998596") + ")" in linked


@pytest.mark.parametrize("dm_link", [False, True])
def test_invitation_is_neutral_and_varies(dm_link: bool) -> None:
    texts = [invitation_text("@Cabinet_Exemple", "1072250532645998596", variant=n,
                             dm_link=dm_link) for n in range(50)]
    assert len(set(texts)) == 50  # X refuses duplicate tweets
    assert invitation_text("cabinet_exemple", "1", dm_link=dm_link) == texts[0].replace(
        "Cabinet_Exemple", "cabinet_exemple").replace("1072250532645998596", "1")
    # Only the account's handle and id come in: nothing from the person's post can.
    assert list(inspect.signature(invitation_text).parameters) == [
        "account_username", "account_id", "variant", "dm_link"]
    for text in texts:
        words = set(text.lower().replace(",", " ").replace(".", " ").split())
        assert not words & {"tu", "te", "ton", "ta", "tes", "toi"}  # vouvoiement
        assert not words & {"meilleur", "expert", "spécialiste", "gagner"}  # LEGAL.md N1/N2


@pytest.mark.parametrize(("username", "account_id"), [
    ("", "1"), ("has space", "1"), ("a" * 16, "1"), ("ok", ""), ("ok", "12a"), ("ok", "1/2")])
def test_invitation_refuses_bad_identifiers(username: str, account_id: str) -> None:
    with pytest.raises(ValueError):
        invitation_text(username, account_id)


def test_post_link() -> None:
    assert post_link("1460323737035677698", "@citoyen_1") == (
        "https://x.com/citoyen_1/status/1460323737035677698")
    assert post_link("1460323737035677698", None) == (
        "https://x.com/i/web/status/1460323737035677698")
    assert post_link("1460323737035677698", "not a handle") == (
        "https://x.com/i/web/status/1460323737035677698")
    with pytest.raises(ValueError):
        post_link("../../evil", "citoyen")
