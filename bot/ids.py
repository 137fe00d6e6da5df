"""Stable ids for lessons, pathways and campaigns, shared by configuration, sources and storage."""

from __future__ import annotations

import re

_SLUG_RE = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """A stable, readable id from a file name or title: 'Give Feedback!' -> 'give-feedback'."""
    return _SLUG_RE.sub("-", text.lower()).strip("-")
