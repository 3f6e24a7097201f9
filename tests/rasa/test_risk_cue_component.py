"""The RiskCueExtractor graph component, tested the way Rasa tests its own components."""

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.risk_cues import RiskCueExtractor
from safeguarding.entities import from_entities
from safeguarding.lexicon import load_lexicon

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def extractor(tmp_path_factory) -> RiskCueExtractor:
    model = PROJECT / "build" / "spacy" / "en_youth"
    assert (model / "meta.json").exists(), "run `make build/spacy/en_youth/meta.json` first"
    config = {**RiskCueExtractor.get_default_config(), "model": str(model)}
    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    return RiskCueExtractor.create(config, storage, Resource("risk_cues"), ExecutionContext(None, "test"))


def extract(extractor: RiskCueExtractor, text: str) -> list[dict]:
    [message] = extractor.process([Message(data={TEXT: text})])
    return message.get(ENTITIES)


def test_cues_become_entities_with_their_polarity_as_role(extractor) -> None:
    entities = extract(extractor, "no one is forcing me but hes threatening to post my pics")
    cues = {(e["value"], e["role"]) for e in entities if e["entity"] == "risk_cue"}
    assert ("forced", "negated") in cues
    assert ("threat", "asserted") in cues
    assert all(e["extractor"] == "RiskCueExtractor" for e in entities)


def test_facts_become_entities(extractor) -> None:
    entities = extract(extractor, "im 13 and live in cardiff, a guy on roblox who is 25 messaged me")
    found = {(e["entity"], e["value"]) for e in entities if e["entity"] != "risk_cue"}
    assert {("own_age", "13"), ("nation", "wales"), ("other_age", "25"), ("platform", "roblox")} <= found
    # The stated age also fills the dialogue's age_band slot.
    assert ("age_band", "13_15") in found


def test_entities_keep_existing_ones_and_round_trip(extractor) -> None:
    text = "he says its our secret"
    [message] = extractor.process([Message(data={TEXT: text, ENTITIES: [{"entity": "age_band", "value": "13_15"}]})])
    entities = message.get(ENTITIES)
    assert entities[0] == {"entity": "age_band", "value": "13_15"}
    reading = from_entities(text, entities, load_lexicon())
    assert reading.asserted("secrecy")
    assert [c.quote for c in reading.cues if c.name == "secrecy"] == ["our secret"]


def test_an_empty_message_is_left_alone(extractor) -> None:
    [message] = extractor.process([Message(data={TEXT: ""})])
    assert not message.get(ENTITIES)
