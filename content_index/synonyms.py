"""Synonyms and abbreviations for workplace questions: "PTO" finds the vacation lesson, "2FA" the MFA one.

A group lists phrases that mean the same thing. When a question contains one of them (matched word by
word on Snowball stems, so "holidays" matches "holiday"), search also looks for the others, at
`SYNONYM_FACTOR` of an exact match. An alternative whose words are mostly stopwords ("time off" would
only leave "time") is never searched for, because it would match unrelated lessons; it still triggers
its group when a person types it. Groups come from `BUILT_IN_SYNONYMS` plus app.yaml `search.synonyms`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

# Groups of workplace terms that people use interchangeably. Generic on purpose: extend per company
# in app.yaml (search.synonyms) rather than here.
BUILT_IN_SYNONYMS: tuple[tuple[str, ...], ...] = (
    (
        "pto",
        "vacation",
        "annual leave",
        "holiday",
        "time off",
        "paid time off",
        "leave request",
        "hols",
        "days off",
    ),
    ("ooo", "out of office", "out-of-office", "outofoffice", "away message", "autoreply", "auto-reply"),
    ("1:1", "one-to-one", "one-on-one", "1on1", "1-1", "121"),
    ("perf review", "performance review", "appraisal", "annual review", "performance appraisal"),
    ("ea", "executive assistant", "pa", "personal assistant"),
    ("uber", "taxi", "cab", "lyft"),
    ("dodgy", "suspicious"),
    ("diary", "calendar"),
    ("sar", "subject access request", "data access request"),
    ("retro", "retrospective"),
    ("mfa", "2fa", "two-factor", "multi-factor", "two-step verification", "2-step verification"),
    ("sso", "single sign-on"),
    ("xlookup", "vlookup", "lookup formula"),
    ("pr", "pull request", "merge request"),
    ("kb", "knowledge base", "wiki"),
    ("faq", "frequently asked questions"),
    ("okr", "objectives and key results"),
    ("kpi", "key performance indicator"),
    ("eod", "end of day"),
    ("hr", "human resources", "people team"),
    ("it support", "helpdesk", "help desk", "service desk"),
    ("crm", "customer relationship management"),
    ("vpn", "virtual private network", "remote access"),
    ("wfh", "work from home", "remote work", "remote working"),
    ("expense claim", "expenses", "reimbursement"),
    ("slide deck", "slides", "deck", "presentation"),
    ("email", "e-mail", "mail"),
    ("password", "passcode", "passphrase"),
    ("phishing", "scam email", "suspicious email"),
    ("onboarding", "new starter", "new hire", "new joiner", "induction"),
    ("offboarding", "leaver", "exit process"),
    ("manager", "line manager", "boss", "supervisor"),
    ("colleague", "coworker", "co-worker", "peer", "teammate"),
    ("delete", "remove", "erase"),
    ("shortcut", "hotkey", "keyboard shortcut"),
    ("screenshot", "screen capture", "screen grab"),
    ("gdpr", "data protection", "data privacy"),
)
SYNONYM_FACTOR = 0.85  # an alternative counts at this fraction of the word the person typed


@dataclass(frozen=True)
class SynonymSpan:
    """Words `start:end` of a question form a known phrase; `alternatives` are its searchable synonyms."""

    start: int
    end: int
    alternatives: tuple[tuple[str, ...], ...]


class Synonyms:
    """Phrase lookup by stemmed words; `find` marks the known phrases in a question, longest first."""

    def __init__(
        self,
        groups: Iterable[Sequence[str]] = BUILT_IN_SYNONYMS,
        *,
        stem: Callable[[str], str],
        words: Callable[[str], Iterable[str]],
        informative: Callable[[str], bool],
    ) -> None:
        self._by_key: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
        self._spelled_out: dict[tuple[str, ...], str] = {}  # key -> the group's first other long phrase
        self._abbreviations: set[tuple[str, ...]] = set()  # one-word keys that are its initials ("ooo")
        spellings: set[str] = set()
        for group in groups:
            phrases = [p for p in group if p.strip()]
            spellings.update(
                w for p in phrases for w in words(p.replace("-", " ")) if w.isalpha() and informative(w)
            )
            keys = [tuple(stem(w) for w in words(p.replace("-", " "))) for p in phrases]
            searchable = []
            for phrase in phrases:
                surface = list(words(phrase.replace("-", " ")))
                terms = tuple(stem(w) for w in surface if informative(w))
                if terms and len(terms) * 2 > len(surface):  # mostly stopwords: too vague to search
                    searchable.append(terms)
            for key, phrase in zip(keys, phrases, strict=True):
                if any(informative(w) for w in words(phrase)):  # never key on "it" or "to" alone
                    found = self._by_key.setdefault(key, set())
                    found.update(t for t in searchable if t != key)
                    longer = [p for p in phrases if p != phrase and len(p) >= 4 and not p.isupper()]
                    if longer and key not in self._spelled_out:
                        self._spelled_out[key] = longer[0]
                        if len(key) == 1 and _abbreviates(phrase, longer[0]):
                            self._abbreviations.add(key)
        self._longest = max((len(k) for k in self._by_key), default=0)
        self._stem = stem
        # The informative words of every phrase as typed, sorted: what a misspelt word in a question can
        # be corrected to, so "perfomance review" still finds its group.
        self.spellings = tuple(sorted(spellings))
        self.spelling_stems = frozenset(stem(w) for w in spellings)

    def __bool__(self) -> bool:
        return bool(self._by_key)

    def expanded(
        self, surface: Sequence[str], known: Callable[[str], bool] = lambda word: False
    ) -> tuple[list[str], list[str]]:
        """For the semantic tier: the question's words with each abbreviation the library does not use
        itself (`known`) replaced by the phrase it stands for ("ooo" -> "out of office": the encoder
        reads "ooo" as noise; "OKRs", in a lesson's title, stays), and another wording of every other
        known phrase, read beside the question ("sitrep" -> "status update"), so company words reach
        the semantic tier too."""
        stems = [self._stem(w) for w in surface]
        words_out = list(surface)
        extra = []
        for span in reversed(self.find(surface)):
            key = tuple(stems[span.start : span.end])
            phrase = self._spelled_out.get(key)
            if not phrase:
                continue
            if key in self._abbreviations and not known(surface[span.start]):
                words_out[span.start : span.end] = [phrase]
            else:
                extra.insert(0, phrase)
        return words_out, extra

    def find(self, surface: Sequence[str]) -> list[SynonymSpan]:
        """Non-overlapping known phrases in a question's words, preferring the longest at each place."""
        stems = [self._stem(w) for w in surface]
        spans: list[SynonymSpan] = []
        i = 0
        while i < len(stems):
            for size in range(min(self._longest, len(stems) - i), 0, -1):
                alternatives = self._by_key.get(tuple(stems[i : i + size]))
                if alternatives:
                    spans.append(SynonymSpan(i, i + size, tuple(sorted(alternatives))))
                    i += size
                    break
            else:
                i += 1
        return spans


def _abbreviates(word: str, phrase: str) -> bool:
    """Whether a word is the initials of a phrase ("ooo": out of office, "okr": objectives and key
    results, with or without its small words), so the phrase can stand in for it."""
    parts = [p for p in phrase.lower().replace("-", " ").split() if p]
    if len(parts) < 2:
        return False
    letters = word.lower().rstrip("s") if len(word) > 2 else word.lower()
    every = "".join(p[0] for p in parts)
    content = "".join(p[0] for p in parts if p not in {"and", "of", "the", "a", "to", "for", "in", "on"})
    return letters in (every, content)
