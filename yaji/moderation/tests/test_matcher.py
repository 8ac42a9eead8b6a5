"""The normaliser and the Aho–Corasick matcher, without the database."""

from __future__ import annotations

import pytest

from yaji.moderation.matcher import TextMatcher
from yaji.moderation.normalize import normalize_text

RULES = [
    ("赌博", "gambling", "block"),
    ("博彩", "gambling", "hold"),
    ("苏绣a货", "counterfeit", "block"),
    ("scam", "fraud", "hold"),
    ("free money", "fraud", "hold"),
    ("Online Casino", "gambling", "block"),
]


@pytest.fixture(scope="module")
def matcher() -> TextMatcher:
    return TextMatcher(RULES)


def words(matcher: TextMatcher, text: str) -> list[str]:
    return [hit.word for hit in matcher.find(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("苏 绣", "苏绣"),
        ("赌.博-网*站", "赌博网站"),
        ("賭\u200b博", "赌博"),  # traditional + zero-width space
        ("ＳＣＡＭ", "scam"),  # full-width
        ("S C A M here", "scam here"),
        ("free   money!!", "free money"),
        ("Straße", "strasse"),
        ("博彩_平台", "博彩平台"),
        ("", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


@pytest.mark.parametrize(
    "text",
    ["赌博", "赌 博", "赌。博", "赌🎲博", "賭博", "赌\u200b\u200b博", "（赌）（博）", "赌_博"],
)
def test_chinese_evasions_are_caught(matcher: TextMatcher, text: str) -> None:
    assert "赌博" in words(matcher, text)


def test_spaced_counterfeit_phrase(matcher: TextMatcher) -> None:
    assert words(matcher, "正宗 苏 绣 A 货，便宜出") == ["苏绣a货"]


def test_overlapping_words_both_reported(matcher: TextMatcher) -> None:
    hits = matcher.find("赌博彩")
    assert [(h.word, h.start, h.end) for h in hits] == [("赌博", 0, 1), ("博彩", 1, 2)]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("This is a SCAM", ["scam"]),
        ("s.c.a.m", ["scam"]),
        ("Get Free Money now", ["free money"]),
        ("visit our ONLINE casino", ["online casino"]),
        ("scam!", ["scam"]),
        ("这是scam吧", ["scam"]),
        # whole words only: no Scunthorpe problem
        ("I love scampi", []),
        ("the scamper ran", []),
        ("freemoney", []),
    ],
)
def test_english_is_case_insensitive_and_whole_word(
    matcher: TextMatcher, text: str, found: list[str]
) -> None:
    assert words(matcher, text) == found


def test_clean_text_and_empty_rules() -> None:
    assert TextMatcher(RULES).find("一幅很美的苏绣，宋代风格") == []
    assert TextMatcher([]).find("赌博") == []
    assert TextMatcher([("  ", "other", "hold")]).size == 0


def test_duplicate_normalised_words_keep_the_stricter_action() -> None:
    matcher = TextMatcher([("赌 博", "gambling", "block"), ("赌博", "gambling", "hold")])
    assert [h.action for h in matcher.find("赌博")] == ["block"]
    matcher = TextMatcher([("赌博", "gambling", "hold"), ("赌博", "gambling", "block")])
    assert [h.action for h in matcher.find("赌博")] == ["block"]


def test_many_words_long_text_is_fast() -> None:
    import time

    rules = [(f"禁词{i:05d}", "other", "hold") for i in range(20_000)]
    matcher = TextMatcher(rules)
    text = ("这是一段很长的正常文字，介绍苏绣与景泰蓝。" * 5000) + "禁词12345"
    started = time.perf_counter()
    hits = matcher.find(text)
    elapsed = time.perf_counter() - started
    assert [h.word for h in hits] == ["禁词12345"]
    assert elapsed < 1.0  # ~100k characters; typically a few tens of ms
