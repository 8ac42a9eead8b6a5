"""The analysis pipeline: examples and properties (no database)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from yaji.search.analysis import (
    MAX_QUERY_TERMS,
    document_tokens,
    fold_plural,
    normalize,
    pinyin_tokens,
    query_terms,
    subwords,
    synonym_map,
    words,
)

TOKEN = re.compile(r"^(?:[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+)$")
HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
TEXT = st.text(
    alphabet=st.one_of(
        HAN,
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.sampled_from("蘇繡·、，。！？（）ＡＢ１２é"),
    ),
    max_size=60,
)


def test_normalize_folds_width_case_accents_and_traditional() -> None:
    assert normalize("ＱＨＣ Cloisonné 蘇繡 緙絲 景泰藍") == "qhc cloisonne 苏绣 缂丝 景泰蓝"


def test_cultural_terms_stay_whole() -> None:
    assert words("故宫博物院千里江山青花瓷茶具苏绣景泰蓝缂丝宋代非遗国潮") == [
        "故宫博物院",
        "千里江山",
        "青花瓷",
        "茶具",
        "苏绣",
        "景泰蓝",
        "缂丝",
        "宋代",
        "非遗",
        "国潮",
    ]


def test_search_mode_adds_the_words_inside_long_words() -> None:
    assert {"故宫", "博物院"} <= set(subwords("故宫博物院"))
    tokens = document_tokens("故宫博物院")
    assert {"故宫博物院", "故宫", "博物院"} <= set(tokens)


def test_pinyin_full_and_initials() -> None:
    assert pinyin_tokens("青花瓷") == ["qinghuaci", "qhc"]
    assert pinyin_tokens("绿") == ["lv"]  # one character: no initials (too broad)
    assert pinyin_tokens("scarf") == []
    assert {"qinghuaci", "qhc"} <= set(document_tokens("明代青花瓷"))


def test_synonyms_both_ways() -> None:
    assert "scarf" in document_tokens("真丝丝巾")
    assert "丝巾" in document_tokens("A silk scarf")
    assert {"tea", "set"} <= set(document_tokens("茶具"))
    assert "茶具" in document_tokens("Blue and white tea set")
    assert "青花瓷" in document_tokens("blue and white")
    assert "porcelain" in document_tokens("瓷器")
    assert synonym_map().single("scarf") == ["丝巾", "围巾", "方巾"]


def test_plural_folding() -> None:
    assert [fold_plural(w) for w in ["scarves", "cups", "boxes", "glass", "series", "sets"]] == [
        "scarf",
        "cup",
        "box",
        "glass",
        "sery",
        "set",
    ]


def test_query_terms() -> None:
    [term] = query_terms("蘇繡")
    assert term.word == "苏绣" and not term.prefix  # documents carry the words inside words
    [term] = query_terms("盘")
    assert term.prefix  # a lone character matches 盘子
    [term] = query_terms("scarf")
    assert term.alternatives == ("scarf", "丝巾", "围巾", "方巾")
    [term] = query_terms("q")
    assert not term.prefix  # a lone letter is not a prefix search
    assert [t.word for t in query_terms("丝巾 丝巾 茶具")] == ["丝巾", "茶具"]
    assert query_terms("  ，。！ ") == []


@settings(max_examples=150, deadline=None)
@given(TEXT)
def test_every_token_is_safe_for_both_backends(text: str) -> None:
    for token in document_tokens(text):
        assert TOKEN.match(token), token
    for term in query_terms(text):
        for token in (term.word, *term.alternatives, *term.relaxed):
            assert TOKEN.match(token), token


@settings(max_examples=150, deadline=None)
@given(TEXT)
def test_query_and_document_analysis_agree(text: str) -> None:
    """Whatever a query asks for exactly, a document with the same text has (so a product is
    always found by its own title), and traditional input analyses like simplified."""
    tokens = set(document_tokens(text))
    terms = query_terms(text)
    assert len(terms) <= MAX_QUERY_TERMS
    for term in terms:
        assert term.word in tokens
    assert document_tokens(text) == document_tokens(normalize(text))


@settings(max_examples=100, deadline=None)
@given(TEXT)
def test_normalize_is_idempotent(text: str) -> None:
    assert normalize(normalize(text)) == normalize(text)
