"""A Rasa NLU component that gives DIET the meaning of a whole message.

Dense sentence features from the pretrained sentence encoder
(safeguarding/encoder.py, all-MiniLM-L6-v2 shipped offline by a pinned package),
so that the intent classifier also recognises messages in words the training
data never used. Sentence features only: the word-level features come from the
count vectorisers and the risk cues.

The app has already encoded each message its young people type (its safety net
reads them too) and sends the vector in the message's metadata
(safeguarding.encoder.as_metadata); that vector is used as it is, so a message
is encoded once on its whole path.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from safeguarding.encoder import PUBLISHED_WEIGHTS_SHA256, from_metadata, load_encoder


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SentenceMeaningFeaturizer(DenseFeaturizer, GraphComponent):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceMeaningFeaturizer:
        return cls(execution_context.node_name, config)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to configure: the model is the packaged one."""

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str:
        """Featurised training data is cached by Rasa; it is only valid for these weights."""
        return PUBLISHED_WEIGHTS_SHA256

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        with_text = [message for message in messages if message.get(TEXT)]
        carried = [from_metadata(message.get(METADATA)) for message in with_text]
        encoded = iter(
            load_encoder().encode([m.get(TEXT) for m, v in zip(with_text, carried, strict=True) if v is None])
        )
        for message, vector in zip(with_text, carried, strict=True):
            vector = next(encoded) if vector is None else vector
            self.add_features_to_message(None, vector[None, :], TEXT, message)
        return messages
