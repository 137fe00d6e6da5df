"""Search v1: in-memory BM25F over lesson fields, typo tolerant, with a confidence for answer-or-abstain.

Ranking is BM25F (Robertson & Zaragoza): each field's term frequency is length-normalised and weighted
(title > tags > summary > body), summed, then saturated once with k1. Terms are lowercased words with
chat stopwords removed and Snowball English stems (the `snowballstemmer` package, which uses PyStemmer's
C build when it is installed). Query words the index has never seen are mapped to the closest vocabulary
term with rapidfuzz, at a small penalty; a misspelt word of the synonym list that the library never uses
is corrected to it first, so its group is still found. Nothing here touches storage: callers build the index.

Confidence (0..1) answers "how much of what the asker typed does this lesson cover?". It is the share of
the query's informative weight (the IDF of each non-stopword query term; a word the index does not know
counts too) that the hit contains, where a match counts fully in the title or tags, a little less in the
summary and less again only in the body, and a typo-corrected match counts at `FUZZY_PENALTY`. Hits
below the top one are further scaled by sqrt(score / top score). So 0.4 means "the lesson covers about
40% of the question's weight, mostly in its title"; a stopword-only or unknown-word question gets no hits.
"""

from __future__ import annotations

import math
import re
import threading
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Protocol

import numpy as np
import snowballstemmer
from rapidfuzz import fuzz, process

from content_index.synonyms import BUILT_IN_SYNONYMS, SYNONYM_FACTOR, Synonyms

# Coverage at or above which a plain SearchIndex hit counts as confident. The bot itself answers on the
# calibrated probability of content_index.answering.ANSWER_THRESHOLD instead.
DEFAULT_THRESHOLD = 0.45

K1 = 2.5  # BM25F sums weighted field tfs, so it saturates later than plain BM25 (flat from 2 to 4)
FIELDS = ("title", "tags", "summary", "body")
FIELD_WEIGHTS = {"title": 3.0, "tags": 2.0, "summary": 1.5, "body": 1.0}
FIELD_B = {"title": 0.75, "tags": 0.75, "summary": 0.75, "body": 0.75}
# How much a query term found only in this field counts towards confidence.
FIELD_EVIDENCE = {"title": 1.0, "tags": 1.0, "summary": 0.85, "body": 0.4}


def _evidence_table(evidence: dict[str, float]) -> np.ndarray:
    """Strength per combination of fields (bit i = FIELDS[i]): the best of the fields present."""
    return np.array(
        [
            max((evidence.get(f, 0.0) for i, f in enumerate(FIELDS) if bits >> i & 1), default=0.0)
            for bits in range(16)
        ]
    )


_FIELD_EVIDENCE = _evidence_table(FIELD_EVIDENCE)
_TITLE_EVIDENCE = _evidence_table({"title": 1.0})

TITLE_BOOST = 0.3  # score x (1 + TITLE_BOOST * share) when most of the query's weight is in the title
TITLE_BOOST_MIN_SHARE = 0.5
PHRASE_BOOST = 0.25  # score x (1 + PHRASE_BOOST * share of the query's word pairs found side by side)
FUZZY_PENALTY = 0.8  # a typo-corrected term scores and counts at this fraction of an exact one
FUZZY_MIN_LENGTH = 4
UNKNOWN_WEIGHT = 1.0  # an unknown query word weighs this many times a term seen in one document
RERANK_POOL = 50
# A lesson's body counts up to this many terms (about 4,000 words). Length normalisation alone does not
# stop a huge lesson from holding every word of every question: with the whole of a 300,000-word
# lesson indexed it ranked first for 34 of the 70 everyday questions; with this cap for none, and no
# development set lost anything (StackFAQ, sample library).
MAX_BODY_TERMS = 2_000
_CACHE_LIMIT = 20_000
_CACHE_ENTRIES = 5_000_000  # cached per-document contributions, summed over terms (about 100 MB)

# English function words, their contractions, and the filler of chat questions ("is there a way to",
# "can you please tell me", "what's the best way"). Kept as text: one place to read and edit.
_STOPWORD_TEXT = """
    a about above after again against all am an and any are aren't as at be because been before being
    below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down
    during each few for from further had hadn't has hasn't have haven't having he he'd he'll he's her here
    here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself
    let's me more most mustn't my myself no nor not of off on once only or other ought our ours ourselves
    out over own same shan't she she'd she'll she's should shouldn't so some such than that that's the their
    theirs them themselves then there there's these they they'd they'll they're they've this those through
    to too under until up very was wasn't we we'd we'll we're we've were weren't what what's when when's
    where where's which while who who's whom why why's will with won't would wouldn't you you'd you'll
    you're you've your yours yourself yourselves
    also just really actually maybe may might must shall etc via per
    im ive id dont doesnt didnt cant isnt wont wanna gonna gotta whats hows thats
    hi hello hey thanks thank thx please pls plz ok okay
    anyone someone somebody anybody anything something everything
    way ways possible best easiest easy good better quick quickly simple simply
    want wanted wants need needs needed like would trying try tried able
    know tell show explain help learn wondering wonder question figure
    get getting got going make making use using used
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_TOKEN_RE = re.compile(r"\d+(?::\d+)+|[^\W_]+(?:[-'][^\W_]+)*(?:\+\+|#(?!\w))?")
_STEMMER = snowballstemmer.stemmer("english")
_STEM_CACHE: dict[str, str] = {}
_TERMS_CACHE: dict[str, tuple[str, ...]] = {}


@dataclass(frozen=True)
class Document:
    """One micro-lesson as search sees it; `tags` hold skills, impact tags and the pillar name."""

    id: str
    title: str
    summary: str = ""
    body: str = ""
    tags: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()
    pillar: str | None = None


@dataclass(frozen=True)
class Filters:
    """Who is asking (their role) and which pillar to stay in; None means no restriction."""

    audience: str | None = None
    pillar: str | None = None


@dataclass(frozen=True)
class Hit:
    """A ranked lesson: raw `score` orders hits, `confidence` (0..1) decides answer or abstain."""

    id: str
    score: float
    confidence: float


def words(text: str) -> Iterator[str]:
    """Lowercase surface words, stopwords included: keeps 'c++', 'c#', 'o365', '1:1'; 'e-mail' gives
    'e', 'mail' and 'email'; possessive "'s" and other apostrophes are dropped."""
    for raw in _TOKEN_RE.findall(text.lower().replace("\u2019", "'")):
        if raw in STOPWORDS:
            yield raw
        elif "-" in raw:
            parts = [_strip_apostrophes(p) for p in raw.split("-")]
            yield from parts
            if len(parts) <= 3:
                yield "".join(parts)
        else:
            yield _strip_apostrophes(raw)


def _strip_apostrophes(word: str) -> str:
    """'google's' -> 'google', "wan't" -> 'want'."""
    if word.endswith("'s"):
        word = word[:-2]
    return word.replace("'", "")


def stem(word: str) -> str:
    """Snowball English stem, cached; tokens with symbols or digits ('c++', '1:1', 'o365') stay as is."""
    cached = _STEM_CACHE.get(word)
    if cached is None:
        cached = _STEMMER.stemWord(word) if word.isalpha() else word
        if len(_STEM_CACHE) < 200_000:
            _STEM_CACHE[word] = cached
    return cached


def is_informative(word: str) -> bool:
    """A word that carries meaning for search: not a stopword and not a lone letter."""
    return word not in STOPWORDS and not (len(word) == 1 and word.isalpha())


def analyze(text: str) -> list[str]:
    """The index terms of a text: informative words, stemmed (each raw token's terms cached)."""
    out: list[str] = []
    for raw in _TOKEN_RE.findall(text.lower().replace("\u2019", "'")):
        terms = _TERMS_CACHE.get(raw)
        if terms is None:
            terms = tuple(stem(w) for w in words(raw) if is_informative(w))
            if len(_TERMS_CACHE) < 500_000:
                _TERMS_CACHE[raw] = terms
        out += terms
    return out


@dataclass(frozen=True)
class _Match:
    """Index terms that stand for a query word: `whole` (a synonym phrase) needs every term present."""

    terms: tuple[str, ...]
    factor: float = 1.0
    whole: bool = False


@dataclass
class _QueryTerm:
    """One informative query word (or known phrase): its weight for confidence and what it matches."""

    weight: float
    matches: list[_Match] = field(default_factory=list)


class RankSignals(Protocol):
    """Evidence from outside the text (feedback, use) that nudges ranking; see content_index.feedback."""

    def multipliers(self, query: str, doc_ids: Sequence[str]) -> dict[str, float]:
        """Score multipliers (bounded, 1.0 = no opinion) for some of `doc_ids` when asked `query`."""
        ...


def make_synonyms(groups: Iterable[Sequence[str]] = BUILT_IN_SYNONYMS) -> Synonyms:
    """A synonym table that splits and stems phrases exactly as questions and lessons are."""
    return Synonyms(groups, stem=stem, words=words, informative=is_informative)


_BUILT_IN = make_synonyms()


@dataclass(frozen=True)
class _DocEntry:
    """What the index keeps per document besides its postings: the document, its slot, word pairs."""

    doc: Document
    slot: int
    pairs: array[int]  # sorted hashes of adjacent term pairs of title and summary, for the phrase boost


@dataclass(frozen=True)
class _Contribution:
    """One term's BM25F contribution per document slot, and which fields hold it (bit per field)."""

    slots: np.ndarray
    values: np.ndarray
    fields: np.ndarray


class SearchIndex:
    """Postings per field (term -> slots and term frequencies, compact arrays) plus field lengths per
    slot; add/remove keep them current, scoring runs vectorised with numpy.

    One lock serialises add, remove and search, so chat threads can search while content is re-indexed."""

    def __init__(
        self,
        documents: Iterable[Document] = (),
        *,
        synonyms: Synonyms | None = None,
        signals: RankSignals | None = None,
    ) -> None:
        self.synonyms = _BUILT_IN if synonyms is None else synonyms
        self.signals = signals  # feedback and use; may be replaced while the bot runs
        self._entries: dict[str, _DocEntry] = {}
        self._postings: dict[str, dict[str, tuple[array[int], array[int]]]] = {f: {} for f in FIELDS}
        self._ids: list[str | None] = []  # slot -> document id (None: free)
        self._free: list[int] = []
        self._lengths = {f: np.zeros(64) for f in FIELDS}  # terms per field, by slot
        self._total_len: dict[str, int] = dict.fromkeys(FIELDS, 0)
        self._nonempty: dict[str, int] = dict.fromkeys(FIELDS, 0)
        self._df: Counter[str] = Counter()
        self._contrib_cache: dict[str, _Contribution] = {}
        self._cached_entries = 0
        self._fuzzy_cache: dict[str, tuple[str, float] | None] = {}
        self._vocabulary: dict[int, list[str]] | None = None  # index terms by length, for rapidfuzz
        self._visible_cache: dict[Filters, tuple[frozenset[str], np.ndarray]] = {}
        self._lock = threading.RLock()
        for doc in documents:
            self._add(doc)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._entries

    def add(self, doc: Document) -> None:
        """Add a document, or replace the one with the same id."""
        with self._lock:
            self._add(doc)

    def add_many(self, documents: Iterable[Document]) -> None:
        """Add or replace several documents under one lock."""
        with self._lock:
            for doc in documents:
                self._add(doc)

    def _add(self, doc: Document) -> None:
        self._remove(doc.id)
        analyzed = _analyzed_fields(doc)
        slot = self._free.pop() if self._free else self._new_slot()
        seen: set[str] = set()
        for f in FIELDS:
            counts = Counter(analyzed[f])
            postings = self._postings[f]
            for term, tf in counts.items():
                posting = postings.get(term)
                if posting is None:
                    postings[term] = (array("I", (slot,)), array("H", (min(tf, 65535),)))
                else:
                    posting[0].append(slot)
                    posting[1].append(min(tf, 65535))
            length = len(analyzed[f])
            self._lengths[f][slot] = length
            self._total_len[f] += length
            self._nonempty[f] += length > 0
            seen.update(counts)
        self._df.update(seen)
        pairs = array(
            "q", sorted({hash(pair) for f in ("title", "summary") for pair in pairwise(analyzed[f])})
        )
        self._entries[doc.id] = _DocEntry(doc, slot, pairs)
        self._ids[slot] = doc.id
        self._invalidate()

    def _new_slot(self) -> int:
        """A fresh slot at the end, growing the per-slot arrays by doubling."""
        slot = len(self._ids)
        self._ids.append(None)
        capacity = len(self._lengths["title"])
        if slot >= capacity:
            for f in FIELDS:
                self._lengths[f] = np.concatenate([self._lengths[f], np.zeros(capacity)])
        return slot

    def remove(self, doc_id: str) -> None:
        """Forget a document; unknown ids are ignored."""
        with self._lock:
            self._remove(doc_id)

    def _remove(self, doc_id: str) -> None:
        entry = self._entries.pop(doc_id, None)
        if entry is None:
            return
        slot = entry.slot
        analyzed = _analyzed_fields(entry.doc)
        seen: set[str] = set()
        for f in FIELDS:
            postings = self._postings[f]
            for term in set(analyzed[f]):
                slots, tfs = postings[term]
                i = slots.index(slot)
                del slots[i], tfs[i]
                if not slots:
                    del postings[term]
                seen.add(term)
            length = len(analyzed[f])
            self._lengths[f][slot] = 0
            self._total_len[f] -= length
            self._nonempty[f] -= length > 0
        for term in seen:
            self._df[term] -= 1
            if self._df[term] <= 0:
                del self._df[term]
        self._ids[slot] = None
        self._free.append(slot)
        self._invalidate()

    def get(self, doc_id: str) -> Document | None:
        """The stored document with this id, if any."""
        entry = self._entries.get(doc_id)
        return entry.doc if entry else None

    def search(self, query: str, *, filters: Filters | None = None, k: int = 10) -> list[Hit]:
        """Top-k visible documents for a chat question, best first, each with a confidence."""
        with self._lock:
            return self._search(query, filters, k)

    def _search(self, query: str, filters: Filters | None, k: int) -> list[Hit]:
        if k <= 0 or not self._entries:
            return []
        plan, pairs = self._plan(query)
        scores = self._score(plan)
        if scores is None:
            return []
        if filters is not None and filters != Filters():
            scores = np.where(self._visible(filters)[1], scores, 0.0)
        candidates = np.flatnonzero(scores > 0.0)
        if candidates.size == 0:
            return []
        size = max(RERANK_POOL, k)
        if candidates.size > size:
            candidates = candidates[np.argpartition(-scores[candidates], size - 1)[:size]]
        pool = [str(self._ids[slot]) for slot in candidates]
        titles = self._shares(candidates, plan, _TITLE_EVIDENCE)
        coverage = self._shares(candidates, plan, _FIELD_EVIDENCE)
        signals = self.signals.multipliers(query, pool) if self.signals is not None else {}
        boosted = []
        for i, doc_id in enumerate(pool):
            title_boost = 1.0 + TITLE_BOOST * titles[i] if titles[i] >= TITLE_BOOST_MIN_SHARE else 1.0
            score = float(scores[candidates[i]]) * title_boost * self._phrase_boost(doc_id, pairs)
            boosted.append((doc_id, score * signals.get(doc_id, 1.0), float(coverage[i])))
        boosted.sort(key=lambda item: (-item[1], item[0]))
        top_score = boosted[0][1]
        return [
            Hit(doc_id, score, share * math.sqrt(score / top_score) * min(1.0, signals.get(doc_id, 1.0)))
            for doc_id, score, share in boosted[:k]
        ]

    def visible_ids(self, filters: Filters | None) -> frozenset[str] | None:
        """Ids these filters let through, or None when nothing is filtered out."""
        if filters is None or filters == Filters():
            return None
        with self._lock:
            return self._visible(filters)[0]

    def _visible(self, filters: Filters) -> tuple[frozenset[str], np.ndarray]:
        """Ids these filters let through, and the same as a mask by slot; cached until the index changes."""
        cached = self._visible_cache.get(filters)
        if cached is None:
            ids = frozenset(d for d, entry in self._entries.items() if _visible(entry.doc, filters))
            mask = np.zeros(len(self._lengths["title"]), dtype=bool)
            mask[[self._entries[d].slot for d in ids]] = True
            cached = (ids, mask)
            if len(self._visible_cache) >= 256:
                self._visible_cache.clear()
            self._visible_cache[filters] = cached
        return cached

    # -- query planning -------------------------------------------------------------------------

    def _plan(self, query: str) -> tuple[list[_QueryTerm], list[tuple[str, str]]]:
        """Turn a question into weighted terms (exact stems, joined compounds, synonyms, typo corrections,
        unknowns) and the adjacent pairs of its informative words, for the phrase boost."""
        surface = list(words(query))
        joined, covered = self._compounds(surface)
        plan = {term: _QueryTerm(self._idf(term), [_Match((term,))]) for term in joined}
        if self.synonyms:
            surface = self._synonym_spelling(surface)
        for span in self.synonyms.find(surface) if self.synonyms else ():
            own = tuple(stem(w) for w in surface[span.start : span.end] if is_informative(w))
            if own in plan:
                continue
            # "out of office" is not about offices: a typed phrase that is mostly stopwords is searched
            # through its synonyms only, never through its one informative word.
            vague = len(own) * 2 <= span.end - span.start
            query_term = self._synonym_term(() if vague else own, span.alternatives)
            if query_term is None and vague:  # nothing in the library says it: a word not known
                query_term = _QueryTerm(UNKNOWN_WEIGHT * self._idf_of_count(1))
            if query_term is not None:
                plan[own] = query_term
                covered.update(range(span.start, span.end))
        for i, word in enumerate(surface):
            if not is_informative(word):
                continue
            term = stem(word)
            if (term,) in plan or term in plan:
                continue
            if term in self._df:
                plan[term] = _QueryTerm(self._idf(term), [_Match((term,))])
            elif i in covered:
                continue
            elif (match := self._fuzzy(word, term)) is not None:
                plan[term] = _QueryTerm(self._idf(match[0]), [_Match((match[0],), match[1])])
            else:
                plan[term] = _QueryTerm(UNKNOWN_WEIGHT * self._idf_of_count(1))
        informative = [stem(w) for w in surface if is_informative(w)]
        pairs = [pair for pair in pairwise(informative) if pair[0] != pair[1]]
        return list(plan.values()), pairs

    def knows(self, word: str) -> bool:
        """Whether some lesson holds this word (in any form)."""
        with self._lock:
            return stem(word) in self._df

    def spelled_words(self, query: str) -> list[str]:
        """The question's words with misspelt synonym-list words corrected (see `_synonym_spelling`)."""
        with self._lock:
            surface = list(words(query))
            return self._synonym_spelling(surface) if self.synonyms and self._entries else surface

    def _synonym_spelling(self, surface: list[str]) -> list[str]:
        """The question's words with a misspelling of a synonym-list word that the library does not
        know corrected to it ("perfomance review" -> "performance review"), so its group is found."""
        fixed = list(surface)
        for i, word in enumerate(surface):
            if len(word) <= FUZZY_MIN_LENGTH or not word.isalpha() or not is_informative(word):
                continue  # one edit in four letters is another word ("disk", "desk")
            if stem(word) in self._df or stem(word) in self.synonyms.spelling_stems:
                continue  # a word the library or the synonym list knows, in some form
            key = "\0" + word  # beside the vocabulary corrections, which are keyed by stems
            if key not in self._fuzzy_cache:
                cutoff = _fuzzy_cutoff(len(word))
                spellings = self.synonyms.spellings
                match = process.extractOne(word, spellings, scorer=fuzz.ratio, score_cutoff=cutoff)
                self._remember(self._fuzzy_cache, key, (match[0], 1.0) if match else None)
            found = self._fuzzy_cache[key]
            if found is not None:
                fixed[i] = found[0]
        return fixed

    def _synonym_term(
        self, own: tuple[str, ...], alternatives: tuple[tuple[str, ...], ...]
    ) -> _QueryTerm | None:
        """A known phrase: its own words (each counting alone) or any synonym phrase present in full."""
        known = tuple(t for t in own if t in self._df)
        found = [alt for alt in alternatives if all(t in self._df for t in alt)]
        if not found:
            return None
        matches = [_Match(known)] if known else []
        matches += [_Match(alt, SYNONYM_FACTOR, whole=True) for alt in found]
        if known:
            weight = sum(self._idf(t) for t in known)
        else:
            weight = max(sum(self._idf(t) for t in alt) / len(alt) for alt in found)
        return _QueryTerm(weight, matches)

    def _compounds(self, surface: list[str]) -> tuple[list[str], set[int]]:
        """Adjacent words whose join is an index term ('strike through' -> 'strikethrough')."""
        joined: list[str] = []
        covered: set[int] = set()
        for i in range(len(surface) - 1):
            first, second = surface[i], surface[i + 1]
            if not (first.isalpha() and second.isalpha()) or len(first) + len(second) < 5:
                continue
            term = stem(first + second)
            if term in self._df:
                joined.append(term)
                covered.update((i, i + 1))
        return joined, covered

    def _fuzzy(self, word: str, term: str) -> tuple[str, float] | None:
        """Closest vocabulary term for an unknown word, or None; cached until the index changes."""
        if len(word) < FUZZY_MIN_LENGTH or not word.isalpha():
            return None
        if term in self._fuzzy_cache:
            return self._fuzzy_cache[term]
        cutoff = _fuzzy_cutoff(len(term))
        found = [
            match
            for candidates in self._vocabulary_near(len(term), cutoff / 100.0)
            for match in process.extract(term, candidates, scorer=fuzz.ratio, score_cutoff=cutoff, limit=5)
        ]
        best = None
        if found:
            choice = max(found, key=lambda m: (m[1], self._df[m[0]], m[0]))[0]
            best = (choice, FUZZY_PENALTY)
        self._remember(self._fuzzy_cache, term, best)
        return best

    def _vocabulary_near(self, length: int, ratio: float) -> Iterator[list[str]]:
        """Vocabulary buckets whose term length can still reach `ratio` (2*shorter/total) with `length`."""
        if self._vocabulary is None:
            self._vocabulary = {}
            for term in self._df:
                self._vocabulary.setdefault(len(term), []).append(term)
        shortest = math.ceil(length * ratio / (2.0 - ratio))
        longest = math.floor(length * (2.0 - ratio) / ratio)
        for size in range(shortest, longest + 1):
            if size in self._vocabulary:
                yield self._vocabulary[size]

    # -- scoring --------------------------------------------------------------------------------

    def _score(self, plan: list[_QueryTerm]) -> np.ndarray | None:
        """BM25F score by slot (0 where no query term matches), or None when nothing can match."""
        scores: np.ndarray | None = None
        for query_term in plan:
            matches = query_term.matches
            if not matches:
                continue
            if scores is None:
                scores = np.zeros(len(self._lengths["title"]))
            if len(matches) == 1 and len(matches[0].terms) == 1:
                part = self._contributions(matches[0].terms[0])
                scores[part.slots] += matches[0].factor * part.values
            else:
                scores += self._best_match_values(matches, len(scores))
        return scores

    def _best_match_values(self, matches: list[_Match], size: int) -> np.ndarray:
        """By slot, the best-scoring of a query word's matches (so synonyms never add up)."""
        best = np.zeros(size)
        for match in matches:
            total, present = np.zeros(size), np.zeros(size, dtype=np.int32)
            for term in match.terms:
                part = self._contributions(term)
                total[part.slots] += part.values
                present[part.slots] += 1
            if match.whole:
                total[present < len(match.terms)] = 0.0
            np.maximum(best, match.factor * total, out=best)
        return best

    def _contributions(self, term: str) -> _Contribution:
        """Per-slot BM25F contribution of one term (idf x saturated weighted tf); cached."""
        cached = self._contrib_cache.get(term)
        if cached is not None:
            return cached
        parts = []
        for bit, f in enumerate(FIELDS):
            posting = self._postings[f].get(term)
            if posting is None:
                continue
            slots = np.array(posting[0], dtype=np.int64)
            tfs = np.array(posting[1], dtype=np.float64)
            b = FIELD_B[f]
            norm = 1.0 - b + b * self._lengths[f][slots] * (self._nonempty[f] / self._total_len[f])
            parts.append((slots, FIELD_WEIGHTS[f] * tfs / norm, 1 << bit))
        if len(parts) == 1:
            slots, pseudo_tf, bit = parts[0]
            if np.any(slots[1:] < slots[:-1]):  # a reused slot: keep slots sorted for lookups
                order = np.argsort(slots, kind="stable")
                slots, pseudo_tf = slots[order], pseudo_tf[order]
            fields = np.full(len(slots), bit, dtype=np.uint8)
        else:
            dense = np.zeros(len(self._lengths["title"]))
            bits = np.zeros(len(dense), dtype=np.uint8)
            for part_slots, values, bit in parts:
                dense[part_slots] += values
                bits[part_slots] |= bit
            slots = np.flatnonzero(bits)  # sorted, each slot once
            pseudo_tf, fields = dense[slots], bits[slots]
        result = _Contribution(slots, self._idf(term) * pseudo_tf / (K1 + pseudo_tf), fields)
        if self._cached_entries > _CACHE_ENTRIES:
            self._contrib_cache.clear()
            self._cached_entries = 0
        self._contrib_cache[term] = result
        self._cached_entries += len(slots)
        return result

    def _phrase_boost(self, doc_id: str, pairs: list[tuple[str, str]]) -> float:
        """Multiplier > 1 for each pair of adjacent query words that also sit side by side in the lesson."""
        if not pairs:
            return 1.0
        found = self._entries[doc_id].pairs
        hits = 0
        for pair in pairs:
            key = hash(pair)
            i = bisect_left(found, key)
            hits += i < len(found) and found[i] == key
        return 1.0 + PHRASE_BOOST * hits / len(pairs)

    def _shares(self, slots: np.ndarray, plan: list[_QueryTerm], evidence: np.ndarray) -> np.ndarray:
        """Per slot, the weighted share of query terms found, a field counting `evidence[field bits]`."""
        total = sum(q.weight for q in plan)
        found = np.zeros(len(slots))
        if total <= 0:
            return found
        for query_term in plan:
            best = np.zeros(len(slots))
            for match in query_term.matches:
                strengths = [self._strengths(term, slots, evidence) for term in match.terms]
                if match.whole:
                    value = np.minimum.reduce(strengths)
                elif len(strengths) == 1:
                    value = strengths[0]
                else:
                    weights = [self._idf(t) for t in match.terms]
                    value = sum(w * s for w, s in zip(weights, strengths, strict=True)) / sum(weights)
                np.maximum(best, match.factor * value, out=best)
            found += query_term.weight * best
        return np.minimum(1.0, found / total)

    def _strengths(self, term: str, slots: np.ndarray, evidence: np.ndarray) -> np.ndarray:
        """How strongly each of `slots` holds `term`: the evidence of its best field, 0 if absent."""
        part = self._contributions(term)
        where = np.searchsorted(part.slots, slots)
        where = np.minimum(where, len(part.slots) - 1)
        bits = np.where(part.slots[where] == slots, part.fields[where], 0)
        return evidence[bits]

    def _idf(self, term: str) -> float:
        """BM25 idf of an index term (unknown terms count as never seen)."""
        return self._idf_of_count(self._df.get(term, 0))

    def _idf_of_count(self, df: int) -> float:
        """BM25 idf, always positive: log(1 + (N - df + 0.5) / (df + 0.5))."""
        n = len(self._entries)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    # -- caches ---------------------------------------------------------------------------------

    def _invalidate(self) -> None:
        """Drop everything derived from corpus statistics; rebuilt lazily by the next search."""
        self._contrib_cache.clear()
        self._cached_entries = 0
        self._fuzzy_cache.clear()
        self._visible_cache.clear()
        self._vocabulary = None

    @staticmethod
    def _remember(cache: dict, key: str, value: object) -> None:
        """Store in a bounded cache, dropping the oldest entry when full."""
        if len(cache) >= _CACHE_LIMIT:
            del cache[next(iter(cache))]
        cache[key] = value


def _analyzed_fields(doc: Document) -> dict[str, list[str]]:
    """The index terms of each field of a document, in order; the body's first `MAX_BODY_TERMS` only."""
    body = doc.body[: MAX_BODY_TERMS * 50]  # a 5 MB lesson is not analysed whole
    texts = {"title": doc.title, "tags": " ".join(doc.tags), "summary": doc.summary, "body": body}
    fields = {f: analyze(texts[f]) for f in FIELDS}
    fields["body"] = fields["body"][:MAX_BODY_TERMS]
    return fields


def _fuzzy_cutoff(length: int) -> float:
    """Minimum rapidfuzz ratio for a typo match: 80 (one edit in short words), two edits from 10 letters."""
    return max(80.0, 100.0 * (length - 2) / length - 0.01)


def _visible(doc: Document, filters: Filters) -> bool:
    """Audience: empty, 'everyone' or the asker's role; pillar: exact match when asked for."""
    if filters.pillar is not None and doc.pillar != filters.pillar:
        return False
    if filters.audience is None or not doc.audience:
        return True
    return "everyone" in doc.audience or filters.audience in doc.audience


class Searchable(Protocol):
    """What chat and evaluation need of an index: the lexical SearchIndex or the semantic HybridIndex."""

    signals: RankSignals | None

    def search(self, query: str, *, filters: Filters | None = None, k: int = 10) -> list[Hit]: ...

    def get(self, doc_id: str) -> Document | None: ...

    def add(self, doc: Document) -> None: ...

    def add_many(self, documents: Iterable[Document]) -> None: ...

    def remove(self, doc_id: str) -> None: ...

    def __len__(self) -> int: ...

    def __contains__(self, doc_id: object) -> bool: ...


def search(index: Searchable, query: str, *, filters: Filters | None = None, k: int = 10) -> list[Hit]:
    """The one search function everything calls."""
    return index.search(query, filters=filters, k=k)
