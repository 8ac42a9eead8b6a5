"""The one text-analysis pipeline of search: documents and queries go through the same steps.

1. NFKC, lower case, Latin accents removed (``Cloisonné`` → ``cloisonne``);
2. traditional → simplified characters (``蘇繡`` → ``苏绣``, zhconv, pure Python);
3. jieba segmentation with the cultural-terms dictionary ``data/userdict.txt``; documents get
   "search mode" (every dictionary word inside a long word too: 故宫博物院 → 故宫, 博物院, ...);
4. tokens are runs of Han characters or of ``[a-z0-9]``, so both backends (FTS5 ``unicode61``
   and PostgreSQL's ``simple`` parser) split the token string exactly where we did; English
   plurals are folded (``scarves`` → ``scarf``);
5. pinyin of every Han word, in full and as initials (青花瓷 → ``qinghuaci``, ``qhc``);
6. synonyms across Chinese and English from ``data/synonyms.txt`` (丝巾 ↔ scarf).

Synonyms are expanded on the document side (a document about 丝巾 also carries ``scarf``), so
queries stay small; queries add single-token synonyms too, which only widens recall. Changing
the dictionary or the synonym file needs ``yaji search-reindex``.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import jieba
import zhconv
from pypinyin import Style, lazy_pinyin

DATA = Path(__file__).resolve().parent / "data"
USER_DICT = DATA / "userdict.txt"
SYNONYMS = DATA / "synonyms.txt"

MAX_QUERY_CHARS = 100
MAX_QUERY_TERMS = 12

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_RE = re.compile(rf"[{_HAN}]+|[a-z0-9]+")
_HAN_RE = re.compile(rf"^[{_HAN}]+$")

logging.getLogger("jieba").setLevel(logging.WARNING)
_tokenizer_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def _jieba() -> jieba.Tokenizer:
    """A private jieba instance with our dictionary (built once per process, ~1 s)."""
    global _tokenizer
    if _tokenizer is None:
        with _tokenizer_lock:
            if _tokenizer is None:
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                tokenizer.load_userdict(str(USER_DICT))
                _tokenizer = tokenizer
    return _tokenizer


# --- steps --------------------------------------------------------------------------------------


def normalize(text: str) -> str:
    """NFKC, lower case, no Latin accents, simplified characters."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    decomposed = unicodedata.normalize("NFD", text)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    text = unicodedata.normalize("NFC", text)
    return zhconv.convert(text, "zh-hans")


def is_han(token: str) -> bool:
    return bool(_HAN_RE.match(token))


def fold_plural(token: str) -> str:
    """A crude English plural folding, the same on both sides (``scarves`` → ``scarf``)."""
    if len(token) <= 3 or not token.isalpha() or not token.isascii():
        return token
    if token.endswith("ies"):
        return token[:-3] + "y"
    if token.endswith("ves"):
        return token[:-3] + "f"
    if token.endswith(("sses", "shes", "ches", "xes")):
        return token[:-2]
    if token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def _pieces(word: str) -> list[str]:
    """The tokens inside one jieba word: Han runs and ASCII alnum runs, plurals folded."""
    return [fold_plural(piece) for piece in _TOKEN_RE.findall(word)]


def words(text: str) -> list[str]:
    """The normalised text cut into words (precise mode), as tokens."""
    out: list[str] = []
    for word in _jieba().cut(normalize(text), HMM=True):
        out.extend(_pieces(word))
    return out


@lru_cache(maxsize=65536)
def subwords(word: str) -> tuple[str, ...]:
    """Dictionary words inside a long Han word (what jieba's search mode adds), longest last."""
    if not is_han(word) or len(word) < 3:
        return ()
    freq = _jieba().FREQ
    found: list[str] = []
    for size in range(2, min(len(word), 7)):
        for start in range(len(word) - size + 1):
            gram = word[start : start + size]
            if freq.get(gram) and gram not in found:
                found.append(gram)
    return tuple(found)


@lru_cache(maxsize=65536)  # words repeat across documents; pypinyin is the slow step
def pinyin_full(word: str) -> str:
    return "".join(lazy_pinyin(word, style=Style.NORMAL, errors="ignore")).lower()


@lru_cache(maxsize=65536)  # words repeat across documents; pypinyin is the slow step
def pinyin_initials(word: str) -> str:
    return "".join(
        p[:1] for p in lazy_pinyin(word, style=Style.FIRST_LETTER, errors="ignore")
    ).lower()


def pinyin_tokens(word: str) -> list[str]:
    """``qinghuaci`` and ``qhc`` for 青花瓷; no initials for one character (too broad)."""
    if not is_han(word):
        return []
    tokens = [t for t in [pinyin_full(word)] if t.isascii() and t.isalnum()]
    if len(word) >= 2:
        initials = pinyin_initials(word)
        if initials.isascii() and initials.isalnum():
            tokens.append(initials)
    return tokens


# --- synonyms -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SynonymMap:
    # A term (one token, or several joined by spaces) → the tokens of all its equivalents.
    expansions: dict[str, tuple[str, ...]]
    # A one-token term → its one-token equivalents (what a query may match instead).
    singles: dict[str, tuple[str, ...]]
    longest: int  # the most tokens in one term

    def expand(self, tokens: list[str]) -> list[str]:
        """Tokens of the synonyms of every term in ``tokens`` (single words and n-grams)."""
        out: list[str] = []
        for size in range(1, self.longest + 1):
            for start in range(len(tokens) - size + 1):
                key = " ".join(tokens[start : start + size])
                for token in self.expansions.get(key, ()):
                    if token not in out:
                        out.append(token)
        return out

    def single(self, token: str) -> list[str]:
        """One-token synonyms of one token (what a query adds as alternatives)."""
        return [t for t in self.singles.get(token, ()) if t != token]


@cache
def synonym_map() -> SynonymMap:
    expansions: dict[str, list[str]] = {}
    singles: dict[str, list[str]] = {}
    longest = 1
    for line in SYNONYMS.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        terms = []
        for raw in line.split(","):
            tokens = [fold_plural(t) for t in _TOKEN_RE.findall(normalize(raw.strip()))]
            if tokens:
                terms.append(tokens)
        group_tokens = tokens_unique(token for tokens in terms for token in tokens)
        group_singles = tokens_unique(tokens[0] for tokens in terms if len(tokens) == 1)
        for tokens in terms:
            longest = max(longest, len(tokens))
            bucket = expansions.setdefault(" ".join(tokens), [])
            bucket.extend(t for t in group_tokens if t not in bucket)
            if len(tokens) == 1:
                single = singles.setdefault(tokens[0], [])
                single.extend(t for t in group_singles if t not in single)
    return SynonymMap(
        {k: tuple(v) for k, v in expansions.items()},
        {k: tuple(v) for k, v in singles.items()},
        longest,
    )


# --- documents ----------------------------------------------------------------------------------


def document_tokens(*texts: str) -> list[str]:
    """The indexed tokens of some text: words, their sub-words, pinyin and synonyms."""
    out: list[str] = []
    for text in texts:
        precise = words(text)
        for word in precise:
            out.extend(subwords(word))
            out.append(word)
            out.extend(pinyin_tokens(word))
        out.extend(synonym_map().expand(precise))
    return out


def document_text(*texts: str) -> str:
    """:func:`document_tokens` as the space-separated string both backends index."""
    return " ".join(document_tokens(*texts))


# --- queries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryTerm:
    """One word of a query: a document matches it through any of ``alternatives`` (exact),
    through a token starting with ``word`` when ``prefix``, or — only in the relaxed pass —
    through one of ``relaxed`` (the dictionary words inside it)."""

    word: str
    alternatives: tuple[str, ...]
    prefix: bool
    relaxed: tuple[str, ...] = ()


def query_terms(query: str) -> list[QueryTerm]:
    """The terms of a search query, at most :data:`MAX_QUERY_TERMS` (duplicates dropped)."""
    terms: list[QueryTerm] = []
    seen: set[str] = set()
    for word in words(query[:MAX_QUERY_CHARS]):
        if word in seen:
            continue
        seen.add(word)
        alternatives = [word, *synonym_map().single(word)]
        # Prefixes let partial pinyin (``qingh``) and a lone character (盘 → 盘子) match. A Han
        # word of two or more characters needs none: documents carry every dictionary word
        # inside their words, and a prefix scan costs ~8× an exact one on PostgreSQL's GIN.
        # A lone Latin letter or digit as a prefix would match half the index.
        prefix = len(word) == 1 if is_han(word) else len(word) >= 2
        terms.append(
            QueryTerm(
                word=word,
                alternatives=tuple(dict.fromkeys(alternatives)),
                prefix=prefix,
                relaxed=tuple(subwords(word)),
            )
        )
        if len(terms) >= MAX_QUERY_TERMS:
            break
    return terms


def query_normalized(query: str) -> str:
    """A query in the form trending counts it under (normalised, single-spaced)."""
    return " ".join(normalize(query).split())[:MAX_QUERY_CHARS]


def tokens_unique(tokens: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(tokens))
