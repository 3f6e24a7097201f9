"""A Rasa NLU component that finds risk cues with spaCy and hands them to the dialogue as entities.

Wraps safeguarding.reader: spaCy Matcher patterns and lemmas from
data/safeguarding/cues.yml, over a locally built spaCy pipeline saved under the
project (make spacy-model), with negation and hypothetical scope. Each message
gains ``risk_cue`` entities (role: asserted, negated or hypothetical) and fact
entities (own_age, other_age, school years, nation, platform, third_party,
hypothetical_frame) that the actions' risk assessment reads across the whole
conversation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from safeguarding.entities import to_entities
from safeguarding.lexicon import DEFAULT_LEXICON_PATH, load_lexicon
from safeguarding.reader import MessageReader, load_pipeline


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class RiskCueExtractor(GraphComponent, EntityExtractorMixin):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # A spaCy pipeline saved under the project; nothing is downloaded at run time.
            "model": "build/spacy/en_youth",
            "lexicon": str(DEFAULT_LEXICON_PATH),
        }

    def __init__(self, config: dict[str, Any]) -> None:
        self._reader = MessageReader(load_lexicon(Path(config["lexicon"])), load_pipeline(Path(config["model"])))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RiskCueExtractor:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            found = self.add_extractor_name(to_entities(self._reader.read(text)))
            message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages
