"""The RiskCueExtractor graph component, tested the way Rasa tests its own components."""

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.risk_cues import LexiconMismatchError, RiskCueExtractor
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


@pytest.fixture(scope="module")
def tokenizer() -> WhitespaceTokenizer:
    return WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())


def tokenized(tokenizer: WhitespaceTokenizer, text: str, **data) -> Message:
    message = Message(data={TEXT: text, **data})
    tokenizer.process([message])
    return message


def cue_columns(extractor: RiskCueExtractor, message: Message) -> tuple[set[str], list[set[str]]]:
    """The names of the feature columns set for the whole message and for each token."""
    sequence, sentence = message.get_sparse_features(TEXT)
    names = extractor.feature_names
    per_token = [{names[c] for c in row.nonzero()[1]} for row in sequence.features.tocsr()]
    return {names[c] for c in sentence.features.nonzero()[1]}, per_token


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


def test_cues_become_features_for_the_intent_classifier(extractor, tokenizer) -> None:
    message = tokenized(tokenizer, "no one is forcing me but hes threatening to post my pics")
    extractor.process([message])
    whole, per_token = cue_columns(extractor, message)
    assert {"forced:negated", "threat:asserted"} <= whole
    assert "threat:asserted" in per_token[7]  # "threatening"
    assert "threat:asserted" not in per_token[0]  # "no"
    assert "forced:asserted" not in whole


def test_facts_become_features(extractor, tokenizer) -> None:
    message = tokenized(tokenizer, "im 13 and a guy on roblox messaged me")
    extractor.process([message])
    whole, per_token = cue_columns(extractor, message)
    assert {"own_age", "platform"} <= whole
    assert per_token[1] == {"own_age"}


def test_training_examples_gain_features_but_keep_their_own_entities(extractor, tokenizer) -> None:
    message = tokenized(tokenizer, "he said he will leak my nudes unless i pay", intent="disclose_sextortion")
    extractor.process_training_data(TrainingData([message]))
    whole, _ = cue_columns(extractor, message)
    assert {"threat_to_share:asserted", "money_demand:asserted"} <= whole
    assert not message.get(ENTITIES)


def test_every_message_has_the_same_number_of_feature_columns(extractor, tokenizer) -> None:
    messages = [tokenized(tokenizer, text) for text in ("hi", "im 15 and scared hes going to post them")]
    extractor.process(messages)
    widths = {message.get_sparse_features(TEXT)[1].features.shape[1] for message in messages}
    assert widths == {len(extractor.feature_names)}


def test_the_training_cache_changes_with_the_lexicon(tmp_path) -> None:
    lexicon = tmp_path / "cues.yml"
    lexicon.write_text((PROJECT / "data" / "safeguarding" / "cues.yml").read_text())
    config = {**RiskCueExtractor.get_default_config(), "lexicon": str(lexicon)}
    before = RiskCueExtractor.fingerprint_addon(config)
    lexicon.write_text(lexicon.read_text() + "\n# a new pattern\n")
    assert RiskCueExtractor.fingerprint_addon(config) != before


def test_a_model_trained_beside_another_lexicon_is_refused(tmp_path) -> None:
    model = PROJECT / "build" / "spacy" / "en_youth"
    config = {**RiskCueExtractor.get_default_config(), "model": str(model)}
    storage, resource = LocalModelStorage(tmp_path), Resource("risk_cues")
    context = ExecutionContext(None, "test")
    trained = RiskCueExtractor.create(config, storage, resource, context)
    trained.train(TrainingData())
    edited = tmp_path / "cues.yml"
    lexicon = Path(config["lexicon"]).read_text(encoding="utf-8")
    documented = tmp_path / "documented.yml"
    documented.write_text(lexicon.replace("    examples:\n", "    examples:\n      - one more example\n", 1))
    edited.write_text(lexicon.replace("patterns:\n", "patterns:\n      - a pattern added since\n", 1))

    loaded = RiskCueExtractor.load(config, storage, resource, context)

    assert loaded.feature_names == trained.feature_names
    assert RiskCueExtractor.load({**config, "lexicon": str(documented)}, storage, resource, context)
    with pytest.raises(LexiconMismatchError, match="retrain"):
        RiskCueExtractor.load({**config, "lexicon": str(edited)}, storage, resource, context)
