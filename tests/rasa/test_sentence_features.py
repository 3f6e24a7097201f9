"""The SentenceMeaningFeaturizer graph component, tested the way Rasa tests its own components."""

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.sentence_features import SentenceMeaningFeaturizer
from safeguarding.encoder import DIMENSIONS, MEANING_METADATA, as_metadata, load_encoder


@pytest.fixture(scope="module")
def featurizer(tmp_path_factory) -> SentenceMeaningFeaturizer:
    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    config = SentenceMeaningFeaturizer.get_default_config()
    return SentenceMeaningFeaturizer.create(config, storage, Resource("meaning"), ExecutionContext(None, "test"))


def sentence_vector(message: Message) -> np.ndarray:
    sequence, sentence = message.get_dense_features(TEXT)
    assert sequence is None, "sentence features only"
    return sentence.features


def test_each_message_gets_the_meaning_of_the_whole_message(featurizer) -> None:
    messages = [Message(data={TEXT: text}) for text in ("he wants money or he posts my pics", "is this private")]
    featurizer.process(messages)
    vectors = [sentence_vector(message) for message in messages]
    assert all(vector.shape == (1, DIMENSIONS) for vector in vectors)
    assert np.allclose(np.linalg.norm(vectors[0]), 1.0, atol=1e-5)


def test_training_examples_are_featurised_the_same_way(featurizer) -> None:
    example = Message(data={TEXT: "my ex says he will leak my nudes", "intent": "disclose_threat_to_share"})
    live = Message(data={TEXT: "my ex says he will leak my nudes"})
    featurizer.process_training_data(TrainingData([example]))
    featurizer.process([live])
    assert np.array_equal(sentence_vector(example), sentence_vector(live))


def test_a_message_without_text_is_left_alone(featurizer) -> None:
    [message] = featurizer.process([Message(data={"intent": "greet"})])
    assert message.get_dense_features(TEXT) == (None, None)


def test_the_meaning_the_app_sent_is_taken_as_it_is(featurizer) -> None:
    sent = load_encoder().encode_one("the app encoded other words")
    carrying = Message(data={TEXT: "is this private", METADATA: {MEANING_METADATA: as_metadata(sent)}})
    plain = Message(data={TEXT: "is this private", METADATA: {"message_seq": 4}})
    featurizer.process([carrying, plain])
    assert np.array_equal(sentence_vector(carrying)[0], sent)
    assert np.array_equal(sentence_vector(plain)[0], load_encoder().encode_one("is this private"))
