"""The encoder's compact model: made once per machine, cached, close to the packaged one, optional."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from content_index import encoder as encoding
from content_index.semantic import unavailable_reason

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))

SENTENCES = ["how do I claim back a taxi from a client visit", "Submit an expense claim", "reset my password"]


def test_the_compact_model_is_made_once_and_gives_nearly_the_same_vectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEARNBOT_MODEL_CACHE", str(tmp_path / "models"))
    compact = encoding.Encoder()
    assert compact.name == encoding.COMPACT_NAME == encoding.model_name()
    [made] = (tmp_path / "models").iterdir()  # one file, no leftovers from making it
    assert made.suffix == ".onnx"
    stamp = made.stat().st_mtime_ns
    assert encoding.Encoder().name == encoding.COMPACT_NAME and made.stat().st_mtime_ns == stamp  # reused

    monkeypatch.setattr(encoding, "compact_model", lambda source: None)
    packaged = encoding.Encoder()
    assert packaged.name == encoding.MODEL_NAME
    closeness = (compact.encode(SENTENCES) * packaged.encode(SENTENCES)).sum(axis=1)
    assert np.all(closeness > 0.97), closeness


def test_without_a_writable_cache_the_packaged_model_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    monkeypatch.setenv("LEARNBOT_MODEL_CACHE", str(blocked))
    with caplog.at_level(logging.WARNING, logger=encoding.__name__):
        fallback = encoding.Encoder()
    assert fallback.name == encoding.MODEL_NAME
    assert "using the packaged encoder model as it is" in caplog.text
    assert fallback.encode_query("reset my password").shape == (384,)
