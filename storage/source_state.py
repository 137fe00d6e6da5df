"""What remote content sources remember between indexing runs (delta links, known items)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from storage.models import SourceState, utcnow


def all_states(*, session: Session) -> dict[str, SourceState]:
    """Every remote source's stored state, by source name."""
    return {state.name: state for state in session.exec(select(SourceState))}


def get_state(*, session: Session, name: str) -> SourceState | None:
    return session.get(SourceState, name)


def save_state(*, session: Session, name: str, delta_link: str | None, data: dict[str, Any]) -> SourceState:
    """Replace a source's state; call it in the transaction that stores the content it describes."""
    state = session.get(SourceState, name) or SourceState(name=name)
    state.delta_link, state.data, state.updated_at = delta_link, dict(data), utcnow()
    session.add(state)
    return state
