"""The sentence encoder: the published weights, and the reference implementation's numbers."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from safeguarding.encoder import (
    DIMENSIONS,
    MEANING_METADATA,
    PUBLISHED_WEIGHTS_SHA256,
    EncoderError,
    as_metadata,
    from_metadata,
    load_encoder,
    packaged_model_dir,
    weights_sha256,
)

REFERENCE = Path(__file__).parent / "fixtures" / "minilm_reference.json"


def test_the_packaged_weights_are_the_published_all_minilm_l6_v2() -> None:
    assert weights_sha256(packaged_model_dir() / "model.safetensors") == PUBLISHED_WEIGHTS_SHA256


def test_other_weights_are_refused(tmp_path) -> None:
    for name in ("tokenizer.json", "model.safetensors"):
        shutil.copy(packaged_model_dir() / name, tmp_path / name)
    with open(tmp_path / "model.safetensors", "r+b") as weights:
        weights.seek(-4, 2)
        weights.write(b"\x00\x00\x80\x3f")
    from safeguarding.encoder import SentenceEncoder

    with pytest.raises(EncoderError, match="not the published"):
        SentenceEncoder(tmp_path)


def test_vectors_match_the_reference_implementation() -> None:
    """fixtures/minilm_reference.json: sentence-transformers' own output for these sentences (how: its made_with)."""
    reference = json.loads(REFERENCE.read_text())
    vectors = load_encoder().encode(reference["sentences"])
    expected = np.array(reference["vectors"], dtype=np.float32)
    assert vectors.shape == (len(reference["sentences"]), DIMENSIONS)
    assert np.allclose(vectors, expected, atol=1e-4)


def test_meaning_not_only_words() -> None:
    encoder = load_encoder()
    threat, paraphrase, unrelated = encoder.encode(
        [
            "he says he will post my pictures unless I pay him",
            "if I don't send money the photos go online, that's what he told me",
            "what time does the football start on saturday",
        ]
    )
    assert float(threat @ paraphrase) > float(threat @ unrelated) + 0.3


def test_a_repeated_sentence_is_encoded_once_and_the_same() -> None:
    encoder = load_encoder()
    first = encoder.encode_one("is this chat private")
    assert np.array_equal(first, encoder.encode(["is this chat private"])[0])
    assert np.allclose(np.linalg.norm(first), 1.0, atol=1e-5)


def test_a_meaning_travels_in_metadata_exactly() -> None:
    vector = load_encoder().encode_one("he says he'll post them unless i send more")
    metadata = {MEANING_METADATA: as_metadata(vector), "message_seq": 3}
    assert np.array_equal(from_metadata(json.loads(json.dumps(metadata))), vector)


@pytest.mark.parametrize(
    "carried",
    [
        None,
        "not a meaning",
        {"float32": "AAAA"},
        {"weights_sha256": PUBLISHED_WEIGHTS_SHA256, "float32": "AAAA"},
        {"weights_sha256": PUBLISHED_WEIGHTS_SHA256, "float32": "not base64!"},
        {"weights_sha256": PUBLISHED_WEIGHTS_SHA256, "float32": 7},
    ],
)
def test_metadata_without_a_meaning_from_these_weights_carries_none(carried) -> None:
    assert from_metadata({MEANING_METADATA: carried}) is None


def test_a_meaning_from_other_weights_is_not_taken() -> None:
    metadata = as_metadata(np.ones(DIMENSIONS, dtype=np.float32))
    assert from_metadata({MEANING_METADATA: {**metadata, "weights_sha256": "0" * 64}}) is None


def test_a_remembered_meaning_is_used_instead_of_encoding() -> None:
    encoder = load_encoder()
    text = "a sentence this test alone encodes"
    elsewhere = encoder.encode_one("quite another sentence")
    encoder.remember(text, elsewhere)
    assert np.array_equal(encoder.encode_one(text), elsewhere)


def test_the_same_sentences_give_the_same_bits_in_every_process() -> None:
    """A vector's last bits depend on the batch it was encoded in; batches must not follow the
    per-process order of a set, or a rebuilt risk model learns from slightly different numbers."""
    script = (
        "import hashlib, sys; from safeguarding.encoder import SentenceEncoder; "
        "texts = ['x' * n + ' ' + 'y' * (30 - n) for n in range(1, 30)] + ['z' * 31] * 2 + "
        "[f'{n:02d} ' + 'pic ' * 7 for n in range(30)]; "
        "sys.stdout.write(hashlib.sha256(SentenceEncoder().encode(texts).tobytes()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[2],
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(digests) == 1
