"""A Rasa NLU component that finds risk cues with spaCy and hands them on.

Wraps safeguarding.reader: spaCy Matcher patterns and lemmas from
data/safeguarding/cues.yml, over a locally built spaCy pipeline saved under the
project (make spacy-model), with negation and hypothetical scope.

The cues go two ways. The dialogue gets them as entities: ``risk_cue`` entities
(role: asserted, negated or hypothetical) and fact entities (own_age, other_age,
school years, nation, platform, third_party, hypothetical_frame) that the
actions' risk assessment reads across the whole conversation. The intent
classifier gets them as sparse features, one column per cue and polarity and
per fact kind, so that "he'll post them unless I pay" and "I'm scared" are told
apart by what they say rather than only by their words.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from safeguarding import features as features_module
from safeguarding import lexicon as lexicon_module
from safeguarding import reader as reader_module
from safeguarding.entities import to_entities
from safeguarding.features import cue_feature_names, found_spans
from safeguarding.lexicon import DEFAULT_LEXICON_PATH, fingerprint, load_lexicon
from safeguarding.reader import MessageReader, load_pipeline
from safeguarding.reading import Reading

LEXICON_RECORD = "lexicon.json"


class LexiconMismatchError(ValueError):
    pass


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True,
)
class RiskCueExtractor(SparseFeaturizer, GraphComponent, EntityExtractorMixin):
    """Training persists the lexicon's fingerprint and feature columns with the model.

    DIET learned weights for those columns: a model loaded beside an edited
    cues.yml would read shifted or changed columns without knowing it, so
    loading refuses, and says to retrain.
    """

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **SparseFeaturizer.get_default_config(),
            # A spaCy pipeline saved under the project; nothing is downloaded at run time.
            "model": "build/spacy/en_youth",
            "lexicon": str(DEFAULT_LEXICON_PATH),
        }

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource) -> None:
        super().__init__(self.__class__.__name__, config)
        self._model_storage, self._resource = model_storage, resource
        lexicon = load_lexicon(Path(config["lexicon"]))
        self.lexicon_fingerprint = fingerprint(Path(config["lexicon"]))
        self._reader = MessageReader(lexicon, load_pipeline(Path(config["model"])))
        # One column per cue and polarity ("threat:negated") and per fact kind ("own_age").
        self.feature_names = cue_feature_names(lexicon)
        self._columns = {name: column for column, name in enumerate(self.feature_names)}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RiskCueExtractor:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> RiskCueExtractor:
        extractor = cls(config, model_storage, resource)
        with model_storage.read_from(resource) as directory:
            trained = json.loads((directory / LEXICON_RECORD).read_text(encoding="utf-8"))
        if trained != extractor._lexicon_record():
            raise LexiconMismatchError(
                "the trained model's risk-cue features were made with another data/safeguarding/cues.yml "
                f"(fingerprint {trained.get('lexicon_fingerprint')}, now {extractor.lexicon_fingerprint}): retrain with `make model`"
            )
        return extractor

    def train(self, training_data: TrainingData) -> Resource:
        with self._model_storage.write_to(self._resource) as directory:
            (directory / LEXICON_RECORD).write_text(json.dumps(self._lexicon_record()), encoding="utf-8")
        return self._resource

    def _lexicon_record(self) -> dict[str, Any]:
        return {"lexicon_fingerprint": self.lexicon_fingerprint, "feature_names": list(self.feature_names)}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        for key in ("model", "lexicon"):
            if not config.get(key):
                raise ValueError(f"RiskCueExtractor needs '{key}' in its configuration")

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str:
        """Rasa caches featurised training data by this class's source and config; the cues also depend on these."""
        # Rasa passes some nodes (the copy that featurises stories) the configuration without its defaults.
        config = {**cls.get_default_config(), **config}
        digest = hashlib.sha256()
        for path in (
            Path(config["lexicon"]),
            Path(config["model"]) / "meta.json",
            Path(reader_module.__file__),
            Path(lexicon_module.__file__),
            Path(features_module.__file__),
        ):
            digest.update(path.read_bytes() if path.exists() else b"")
        return digest.hexdigest()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Features only: the training examples' entities are what the data says they are."""
        for message in training_data.training_examples:
            text = message.get(TEXT)
            if text:
                self._add_features(message, self._reader.read(text))
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            reading = self._reader.read(text)
            self._add_features(message, reading)
            found = self.add_extractor_name(to_entities(reading))
            message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages

    def _add_features(self, message: Message, reading: Reading) -> None:
        tokens = message.get(TOKENS_NAMES[TEXT], [])
        if not tokens:
            return
        spans = found_spans(reading)
        sequence = np.zeros((len(tokens), len(self._columns)))
        sentence = np.zeros((1, len(self._columns)))
        for name, start, end in spans:
            column = self._columns[name]
            sentence[0, column] = 1.0
            for row, token in enumerate(tokens):
                if token.start < end and token.end > start:
                    sequence[row, column] = 1.0
        self.add_features_to_message(
            scipy.sparse.coo_matrix(sequence), scipy.sparse.coo_matrix(sentence), TEXT, message
        )
