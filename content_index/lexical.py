"""The lexical tier as the bot uses it alone: SearchIndex ranking with calibrated confidence.

`SearchIndex.search` reports coverage (how much of the question a lesson holds); this wrapper turns the
ranking into content_index.confidence's probability that each hit is right, so both tiers' confidences
mean the same thing and the same answer / not-sure / abstain thresholds apply.
"""

from __future__ import annotations

from content_index.confidence import lexical_confidence
from content_index.search import Filters, Hit, SearchIndex

MIN_POOL = 5  # the margin to the next lesson needs the next lessons, whatever k the caller wants


class LexicalIndex(SearchIndex):
    """A SearchIndex whose hits carry calibrated confidence instead of coverage."""

    def search(self, query: str, *, filters: Filters | None = None, k: int = 10) -> list[Hit]:
        if k <= 0:
            return []
        with self._lock:
            hits = self._search(query, filters, max(k, MIN_POOL))
        if not hits:
            return []
        probabilities = lexical_confidence(hits)
        return [Hit(h.id, h.score, p) for h, p in zip(hits[:k], probabilities, strict=False)]

    def coverage_search(self, query: str, *, filters: Filters | None = None, k: int = 10) -> list[Hit]:
        """The plain ranking with coverage as confidence (what the hybrid fuses)."""
        return super().search(query, filters=filters, k=k)
