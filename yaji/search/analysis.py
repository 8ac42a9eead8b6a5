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
from typing import Protocol

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


# --- spelling -----------------------------------------------------------------------------------
#
# Typo tolerance works on the vocabulary of indexed tokens (``SearchVocabulary``, kept by the
# services) through two kinds of lookup keys, both plain strings so that either database finds
# them with one indexed ``IN``:
#
# - English and pinyin words (Latin tokens of 4–32 letters) are keyed by themselves and every
#   one-letter deletion (SymSpell): a query word and a vocabulary token within one edit
#   (insertion, deletion, substitution, adjacent transposition) always share a key;
# - Han words of 2–8 characters are keyed by their sound: toneless pinyin with the initials and
#   finals people confuse folded together (zh/z, ch/c, sh/s, -ng/-n), so homophone typos from a
#   pinyin input method (青花磁 → 青花瓷, 苏秀 → 苏绣) meet the word meant.
#
# Which candidate wins, and whether a correction is used at all, is decided in the selectors
# (a correction must find more products than the query as typed).

SPELL_LATIN_MIN = 4  # shorter Latin words (qhc, tea) are too ambiguous to correct
SPELL_LATIN_MAX = 32
SPELL_HAN_MAX = 8
SPELL_SPAN_MAX = 6  # the longest Han span of a query that is looked up by sound
VOCABULARY_TOKEN_MAX = 64

_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"))
_FUZZY_FINALS = (("ang", "an"), ("eng", "en"), ("ing", "in"))


def _latin_word(token: str) -> bool:
    return token.isascii() and token.isalpha()


def _syllable_fuzzy(syllable: str) -> str:
    for long, short in _FUZZY_INITIALS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long) :]
            break
    for long, short in _FUZZY_FINALS:
        if syllable.endswith(long):
            syllable = syllable[: -len(long)] + short
            break
    return syllable


@lru_cache(maxsize=65536)
def sound_key(word: str) -> str:
    """The fuzzy toneless pinyin of a Han word, one ``-`` between syllables (景泰蓝 →
    ``jin-tai-lan``); empty when a character has no pinyin."""
    syllables = lazy_pinyin(word, style=Style.NORMAL, errors="ignore")
    if len(syllables) != len(word):
        return ""
    return "-".join(_syllable_fuzzy(s.lower()) for s in syllables)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def spelling_keys(token: str) -> list[str]:
    """The lookup keys a vocabulary token is stored under (none for tokens never corrected
    towards: short or mixed Latin, single characters, long Han words)."""
    if is_han(token):
        if 2 <= len(token) <= SPELL_HAN_MAX:
            key = sound_key(token)
            return [f"s:{key}"] if key else []
        return []
    if _latin_word(token) and SPELL_LATIN_MIN <= len(token) <= SPELL_LATIN_MAX:
        return [f"e:{token}", *sorted(f"e:{d}" for d in _deletes(token) if d != token)]
    return []


def edit_distance_max(word: str) -> int:
    """How many edits a Latin word may be away from its correction: 1, or 2 from 8 letters on
    (what Meilisearch and Elasticsearch's AUTO fuzziness allow, give or take)."""
    return 2 if len(word) >= 8 else 1


def latin_query_keys(word: str) -> set[str]:
    """Keys a misspelt Latin word is looked up under: itself and its deletions, two deep for
    long words (so two extra letters in the query still meet the stored one-deletions)."""
    keys = {word} | _deletes(word)
    if edit_distance_max(word) >= 2:
        for deleted in list(keys):
            keys |= _deletes(deleted)
    return {f"e:{k}" for k in keys if len(k) >= SPELL_LATIN_MIN - 1}


def edit_distance(a: str, b: str, *, limit: int = 2) -> int:
    """Optimal-string-alignment distance (Levenshtein + adjacent transpositions), or
    ``limit + 1`` as soon as it is certain to exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1] if previous[-1] <= limit else limit + 1


@dataclass(frozen=True)
class VocabularyEntry:
    token: str
    documents: int


class SpellingLookup(Protocol):
    """What the corrector asks of the vocabulary (the selectors answer from the database)."""

    def known(self, tokens: set[str]) -> set[str]:
        """Which of these tokens are in at least one indexed document."""

    def by_keys(self, keys: set[str]) -> list[VocabularyEntry]:
        """Tokens in at least one document stored under any of these keys."""


@dataclass(frozen=True)
class _Piece:
    text: str  # as typed (normalised)
    kind: str  # "han", "latin" or "other" (kept as is)


def _query_pieces(norm: str) -> list[_Piece]:
    out: list[_Piece] = []
    at = 0
    for match in _TOKEN_RE.finditer(norm):
        if match.start() > at:
            out.append(_Piece(norm[at : match.start()], "other"))
        token = match.group()
        kind = "han" if is_han(token) else ("latin" if _latin_word(token) else "other")
        out.append(_Piece(token, kind))
        at = match.end()
    if at < len(norm):
        out.append(_Piece(norm[at:], "other"))
    return out


def _han_spans(run: str) -> list[str]:
    return [
        run[i:j]
        for i in range(len(run))
        for j in range(i + 2, min(len(run), i + SPELL_SPAN_MAX) + 1)
    ]


def _best_homophone(
    span: str, by_sound: dict[str, list[VocabularyEntry]]
) -> VocabularyEntry | None:
    exact = pinyin_full(span)
    found = [
        e
        for e in by_sound.get(sound_key(span), [])
        if len(e.token) == len(span) and e.token != span
    ]
    # The same pinyin before a fuzzy match (zh/z ...), then the more common word.
    found.sort(key=lambda e: (pinyin_full(e.token) != exact, -e.documents, e.token))
    return found[0] if found else None


def _correct_han(run: str, known: set[str], by_sound: dict[str, list[VocabularyEntry]]) -> str:
    """The run re-spelt so that as much of it as possible is indexed words: a dynamic
    programme over its characters where a span is kept if indexed, replaced by an indexed
    homophone, or left as single characters; best = most characters in indexed words, then the
    fewest replacements, then the fewest pieces."""
    n = len(run)
    # best[i] = (covered, -replaced, -pieces), text of run[:i]
    best: list[tuple[tuple[int, int, int], str] | None] = [None] * (n + 1)
    best[0] = ((0, 0, 0), "")
    for i in range(n):
        entry = best[i]
        if entry is None:
            continue
        (covered, replaced, pieces), text = entry
        options: list[tuple[int, tuple[tuple[int, int, int], str]]] = [
            (i + 1, ((covered, replaced, pieces - 1), text + run[i]))
        ]
        for j in range(i + 2, min(n, i + SPELL_SPAN_MAX) + 1):
            span = run[i:j]
            if span in known:
                options.append((j, ((covered + len(span), replaced, pieces - 1), text + span)))
                continue
            homophone = _best_homophone(span, by_sound)
            if homophone is not None:
                options.append(
                    (
                        j,
                        (
                            (covered + len(span), replaced - 1, pieces - 1),
                            text + homophone.token,
                        ),
                    )
                )
        for j, candidate in options:
            current = best[j]
            if current is None or candidate[0] > current[0]:
                best[j] = candidate
    final = best[n]
    return final[1] if final is not None else run


def _correct_latin(word: str, known: set[str], candidates: list[VocabularyEntry]) -> str:
    folded = fold_plural(word)
    if word in known or folded in known:
        return word
    limit = edit_distance_max(folded)
    scored = []
    for entry in candidates:
        distance = edit_distance(folded, entry.token, limit=limit)
        if distance <= limit:
            scored.append((distance, -entry.documents, entry.token))
    return min(scored)[2] if scored else word


def spelling_correct(query: str, lookup: SpellingLookup) -> str | None:
    """The query re-spelt with indexed words where it has unindexed ones (景泰兰 → 景泰蓝,
    scraf → scarf), normalised; None when nothing would change. Two vocabulary lookups."""
    norm = " ".join(normalize(query[:MAX_QUERY_CHARS]).split())
    pieces = _query_pieces(norm)
    han_runs = [p.text for p in pieces if p.kind == "han"]
    latin = [
        p.text
        for p in pieces
        if p.kind == "latin" and SPELL_LATIN_MIN <= len(p.text) <= SPELL_LATIN_MAX
    ]
    if not han_runs and not latin:
        return None
    spans = {s for run in han_runs for s in _han_spans(run)}
    words_asked = {w for word in latin for w in (word, fold_plural(word))}
    known = lookup.known(spans | words_asked)
    keys = {f"s:{k}" for k in map(sound_key, spans - known) if k}
    unknown_latin = [w for w in latin if w not in known and fold_plural(w) not in known]
    for word in unknown_latin:
        keys |= latin_query_keys(fold_plural(word))
    entries = lookup.by_keys(keys) if keys else []
    by_sound: dict[str, list[VocabularyEntry]] = {}
    latin_entries = []
    for entry in entries:
        if is_han(entry.token):
            by_sound.setdefault(sound_key(entry.token), []).append(entry)
        else:
            latin_entries.append(entry)
    out = []
    for piece in pieces:
        if piece.kind == "han":
            out.append(_correct_han(piece.text, known, by_sound))
        elif piece.kind == "latin" and piece.text in unknown_latin:
            out.append(_correct_latin(piece.text, known, latin_entries))
        else:
            out.append(piece.text)
    corrected = "".join(out)
    return corrected if corrected != norm else None
