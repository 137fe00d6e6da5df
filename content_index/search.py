"""Search v1: in-memory BM25F over lesson fields, typo tolerant, with a confidence for answer-or-abstain.

Ranking is BM25F (Robertson & Zaragoza): each field's term frequency is length-normalised and weighted
(title > tags > summary > body), summed, then saturated once with k1. Terms are lowercased words with
chat stopwords removed and Snowball English stems (the `snowballstemmer` package, which uses PyStemmer's
C build when it is installed). Query words the index has never seen are mapped to the closest vocabulary
term with rapidfuzz, at a small penalty. Nothing here touches storage: callers build the index.

Confidence (0..1) answers "how much of what the asker typed does this lesson cover?". It is the share of
the query's informative weight (the IDF of each non-stopword query term; a word the index does not know
counts too) that the hit contains, where a match counts fully in the title or tags, a little less in the
summary and less again only in the body, and a typo-corrected match counts at `FUZZY_PENALTY`. Hits
below the top one are further scaled by sqrt(score / top score). So 0.4 means "the lesson covers about
40% of the question's weight, mostly in its title"; a stopword-only or unknown-word question gets no hits.
"""

from __future__ import annotations

import heapq
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Protocol

import snowballstemmer
from rapidfuzz import fuzz, process

from content_index.synonyms import BUILT_IN_SYNONYMS, SYNONYM_FACTOR, Synonyms

# Confidence at or above which the bot answers; below it says it has no lesson yet (see module doc).
DEFAULT_THRESHOLD = 0.45

K1 = 2.5  # BM25F sums weighted field tfs, so it saturates later than plain BM25 (flat from 2 to 4)
FIELDS = ("title", "tags", "summary", "body")
FIELD_WEIGHTS = {"title": 3.0, "tags": 2.0, "summary": 1.5, "body": 1.0}
FIELD_B = {"title": 0.75, "tags": 0.75, "summary": 0.75, "body": 0.75}
# How much a query term found only in this field counts towards confidence.
FIELD_EVIDENCE = {"title": 1.0, "tags": 1.0, "summary": 0.85, "body": 0.4}

TITLE_BOOST = 0.3  # score x (1 + TITLE_BOOST * share) when most of the query's weight is in the title
TITLE_BOOST_MIN_SHARE = 0.5
PHRASE_BOOST = 0.25  # score x (1 + PHRASE_BOOST * share of the query's word pairs found side by side)
FUZZY_PENALTY = 0.8  # a typo-corrected term scores and counts at this fraction of an exact one
FUZZY_MIN_LENGTH = 4
UNKNOWN_WEIGHT = 1.0  # an unknown query word weighs this many times a term seen in one document
RERANK_POOL = 50
_CACHE_LIMIT = 20_000

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
    """The index terms of a text: informative words, stemmed."""
    return [stem(w) for w in words(text) if is_informative(w)]


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
    """What the index keeps per document: the document and its term counts per field."""

    doc: Document
    terms: dict[str, Counter[str]]
    lengths: dict[str, int]
    pairs: frozenset[tuple[str, str]]  # adjacent term pairs of title, summary and body, for phrases


class SearchIndex:
    """Postings per field (term -> {doc id: tf}) plus lengths; add/remove keep them current.

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
        self._postings: dict[str, dict[str, dict[str, int]]] = {f: {} for f in FIELDS}
        self._total_len: dict[str, int] = dict.fromkeys(FIELDS, 0)
        self._nonempty: dict[str, int] = dict.fromkeys(FIELDS, 0)
        self._df: Counter[str] = Counter()
        self._contrib_cache: dict[str, dict[str, float]] = {}
        self._fuzzy_cache: dict[str, tuple[str, float] | None] = {}
        self._vocabulary: dict[int, list[str]] | None = None  # index terms by length, for rapidfuzz
        self._visible_cache: dict[Filters, frozenset[str]] = {}
        self._lock = threading.RLock()
        for doc in documents:
            self.add(doc)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._entries

    def add(self, doc: Document) -> None:
        """Add a document, or replace the one with the same id."""
        with self._lock:
            self._add(doc)

    def _add(self, doc: Document) -> None:
        self._remove(doc.id)
        texts = {"title": doc.title, "tags": " ".join(doc.tags), "summary": doc.summary, "body": doc.body}
        analyzed = {f: analyze(texts[f]) for f in FIELDS}
        terms = {f: Counter(analyzed[f]) for f in FIELDS}
        pairs = frozenset(pair for f in ("title", "summary", "body") for pair in pairwise(analyzed[f]))
        lengths = {f: sum(counts.values()) for f, counts in terms.items()}
        for f, counts in terms.items():
            postings = self._postings[f]
            for term, tf in counts.items():
                postings.setdefault(term, {})[doc.id] = tf
            self._total_len[f] += lengths[f]
            self._nonempty[f] += lengths[f] > 0
        self._df.update(set().union(*terms.values()))
        self._entries[doc.id] = _DocEntry(doc, terms, lengths, pairs)
        self._invalidate()

    def remove(self, doc_id: str) -> None:
        """Forget a document; unknown ids are ignored."""
        with self._lock:
            self._remove(doc_id)

    def _remove(self, doc_id: str) -> None:
        entry = self._entries.pop(doc_id, None)
        if entry is None:
            return
        for f, counts in entry.terms.items():
            postings = self._postings[f]
            for term in counts:
                posting = postings[term]
                del posting[doc_id]
                if not posting:
                    del postings[term]
            self._total_len[f] -= entry.lengths[f]
            self._nonempty[f] -= entry.lengths[f] > 0
        for term in set().union(*entry.terms.values()):
            self._df[term] -= 1
            if self._df[term] <= 0:
                del self._df[term]
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
        if filters is not None and filters != Filters():
            visible = self._visible_ids(filters)
            scores = {d: s for d, s in scores.items() if d in visible}
        if not scores:
            return []
        pool = heapq.nlargest(max(RERANK_POOL, k), scores, key=scores.__getitem__)
        signals = self.signals.multipliers(query, pool) if self.signals is not None else {}
        boosted = [
            (
                doc_id,
                scores[doc_id]
                * self._title_boost(doc_id, plan)
                * self._phrase_boost(doc_id, pairs)
                * signals.get(doc_id, 1.0),
            )
            for doc_id in pool
        ]
        boosted.sort(key=lambda item: (-item[1], item[0]))
        top_score = boosted[0][1]
        return [
            Hit(
                doc_id,
                score,
                self._coverage(doc_id, plan)
                * math.sqrt(score / top_score)
                * min(1.0, signals.get(doc_id, 1.0)),
            )
            for doc_id, score in boosted[:k]
        ]

    def visible_ids(self, filters: Filters | None) -> frozenset[str] | None:
        """Ids these filters let through, or None when nothing is filtered out."""
        if filters is None or filters == Filters():
            return None
        with self._lock:
            return self._visible_ids(filters)

    def _visible_ids(self, filters: Filters) -> frozenset[str]:
        """Ids of the documents these filters let through; cached per filter until the index changes."""
        visible = self._visible_cache.get(filters)
        if visible is None:
            visible = frozenset(d for d, entry in self._entries.items() if _visible(entry.doc, filters))
            if len(self._visible_cache) >= 256:
                self._visible_cache.clear()
            self._visible_cache[filters] = visible
        return visible

    # -- query planning -------------------------------------------------------------------------

    def _plan(self, query: str) -> tuple[list[_QueryTerm], list[tuple[str, str]]]:
        """Turn a question into weighted terms (exact stems, joined compounds, synonyms, typo corrections,
        unknowns) and the adjacent pairs of its informative words, for the phrase boost."""
        surface = list(words(query))
        joined, covered = self._compounds(surface)
        plan = {term: _QueryTerm(self._idf(term), [_Match((term,))]) for term in joined}
        for span in self.synonyms.find(surface) if self.synonyms else ():
            own = tuple(stem(w) for w in surface[span.start : span.end] if is_informative(w))
            if own in plan:
                continue
            query_term = self._synonym_term(own, span.alternatives)
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

    def _score(self, plan: list[_QueryTerm]) -> dict[str, float]:
        """BM25F score of every document sharing at least one term with the query."""
        parts: list[tuple[dict[str, float], float]] = []
        for query_term in plan:
            matches = query_term.matches
            if len(matches) == 1 and len(matches[0].terms) == 1:
                parts.append((self._contributions(matches[0].terms[0]), matches[0].factor))
            elif matches:
                parts.append((self._best_match_values(matches), 1.0))
        if not parts:
            return {}
        parts.sort(key=lambda part: len(part[0]), reverse=True)
        first, factor = parts[0]
        scores = dict(first) if factor == 1.0 else {d: factor * v for d, v in first.items()}
        get = scores.get
        for contributions, factor in parts[1:]:
            for doc_id, value in contributions.items():
                scores[doc_id] = get(doc_id, 0.0) + factor * value
        return scores

    def _best_match_values(self, matches: list[_Match]) -> dict[str, float]:
        """Per document, the best-scoring of a query word's matches (so synonyms never add up)."""
        best: dict[str, float] = {}
        for match in matches:
            contributions = [self._contributions(term) for term in match.terms]
            docs: Iterable[str]
            if match.whole:
                smallest = min(contributions, key=len)
                docs = [d for d in smallest if all(d in c for c in contributions)]
            else:
                docs = set().union(*contributions)
            for doc_id in docs:
                value = match.factor * sum(c.get(doc_id, 0.0) for c in contributions)
                if value > best.get(doc_id, 0.0):
                    best[doc_id] = value
        return best

    def _contributions(self, term: str) -> dict[str, float]:
        """Per-document BM25F contribution of one term (idf x saturated weighted tf); cached."""
        cached = self._contrib_cache.get(term)
        if cached is not None:
            return cached
        pseudo_tf: dict[str, float] = {}
        for f in FIELDS:
            postings = self._postings[f].get(term)
            if not postings:
                continue
            weight, b = FIELD_WEIGHTS[f], FIELD_B[f]
            average = self._total_len[f] / self._nonempty[f]
            entries = self._entries
            for doc_id, tf in postings.items():
                norm = 1.0 - b + b * entries[doc_id].lengths[f] / average
                pseudo_tf[doc_id] = pseudo_tf.get(doc_id, 0.0) + weight * tf / norm
        idf = self._idf(term)
        result = {doc_id: idf * x / (K1 + x) for doc_id, x in pseudo_tf.items()}
        self._remember(self._contrib_cache, term, result)
        return result

    def _title_boost(self, doc_id: str, plan: list[_QueryTerm]) -> float:
        """Multiplier > 1 when most of the query's weight appears in the document's title."""
        share = self._share(doc_id, plan, {"title": 1.0})
        return 1.0 + TITLE_BOOST * share if share >= TITLE_BOOST_MIN_SHARE else 1.0

    def _coverage(self, doc_id: str, plan: list[_QueryTerm]) -> float:
        """Share of the query's informative weight that this document contains (see module doc)."""
        return self._share(doc_id, plan, FIELD_EVIDENCE)

    def _phrase_boost(self, doc_id: str, pairs: list[tuple[str, str]]) -> float:
        """Multiplier > 1 for each pair of adjacent query words that also sit side by side in the lesson."""
        if not pairs:
            return 1.0
        found = self._entries[doc_id].pairs
        return 1.0 + PHRASE_BOOST * sum(pair in found for pair in pairs) / len(pairs)

    def _share(self, doc_id: str, plan: list[_QueryTerm], evidence: dict[str, float]) -> float:
        """Weighted share of query terms found in the given fields, each field counting `evidence[f]`."""
        total = sum(q.weight for q in plan)
        if total <= 0:
            return 0.0
        terms = self._entries[doc_id].terms

        def strength(term: str) -> float:
            return max((s for f, s in evidence.items() if term in terms[f]), default=0.0)

        found = 0.0
        for query_term in plan:
            best = 0.0
            for match in query_term.matches:
                if match.whole:
                    value = min(strength(t) for t in match.terms)
                elif len(match.terms) == 1:
                    value = strength(match.terms[0])
                else:
                    weights = [self._idf(t) for t in match.terms]
                    value = sum(w * strength(t) for w, t in zip(weights, match.terms, strict=True))
                    value /= sum(weights)
                best = max(best, match.factor * value)
            found += query_term.weight * best
        return min(1.0, found / total)

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
        self._fuzzy_cache.clear()
        self._visible_cache.clear()
        self._vocabulary = None

    @staticmethod
    def _remember(cache: dict, key: str, value: object) -> None:
        """Store in a bounded cache, dropping the oldest entry when full."""
        if len(cache) >= _CACHE_LIMIT:
            del cache[next(iter(cache))]
        cache[key] = value


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

    def remove(self, doc_id: str) -> None: ...

    def __len__(self) -> int: ...

    def __contains__(self, doc_id: object) -> bool: ...


def search(index: Searchable, query: str, *, filters: Filters | None = None, k: int = 10) -> list[Hit]:
    """The one search function everything calls."""
    return index.search(query, filters=filters, k=k)
