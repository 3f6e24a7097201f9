import pytest

from safeguarding.lexicon import LexiconError, load_lexicon, parse_lexicon


def test_compiles_the_pattern_syntax() -> None:
    lexicon = load_lexicon()
    [pattern] = lexicon.compile("~threaten me|us _{0,2} @image?")
    assert pattern[0] == {"LEMMA": {"IN": ["threaten"]}}
    assert pattern[1] == {"NORM": {"IN": ["me", "us"]}}
    assert pattern[2] == {"OP": "{0,2}"}
    assert pattern[3]["OP"] == "?" and "pic" in pattern[3]["LEMMA"]["IN"]


def test_mixed_alternatives_expand_into_several_patterns() -> None:
    patterns = load_lexicon().compile("i am #|/^\\d+yo$/")
    assert [p[2] for p in patterns] == [{"LIKE_NUM": True}, {"TEXT": {"REGEX": "^\\d+yo$"}}]


def test_a_final_end_marks_the_end_of_a_phrase_not_a_token() -> None:
    lexicon = load_lexicon()
    assert lexicon.ends_phrase("send him one <end>")
    assert lexicon.compile("send him one <end>") == lexicon.compile("send him one")
    with pytest.raises(LexiconError):
        lexicon.compile("send <end> one")


def test_every_cue_has_a_known_criterion() -> None:
    criteria = {"adult_involved", "coercion", "grooming", "under_13", "immediate_risk", "someone_else", None}
    assert {cue.criterion for cue in load_lexicon().cues.values()} <= criteria


NEGATION = {
    "negators": ["not"],
    "window": 3,
    "double_negation_breakers": [],
    "scope_breakers": [],
    "answer_verbs": [],
    "coordinators": [],
    "coordinator_window": 8,
    "clause_breaks": [],
    "critical_clause_starts": [],
}


def _minimal(**overrides):
    data = {
        "word_sets": {},
        "cues": {"x": {"label": "x", "patterns": ["hello"]}},
        "markers": {},
        "negation": NEGATION,
        "ages": {
            "number_words": {},
            "units_after": [],
            "school_year_offset": {"default": 4},
            "scottish_secondary_offset": 10,
            "scottish_primary_offset": 3,
        },
        "nations": {},
        "platforms": {},
    }
    data.update(overrides)
    return data


def test_the_minimal_lexicon_loads() -> None:
    assert parse_lexicon(_minimal()).cues["x"].patterns == ("hello",)


def test_a_typo_fails_when_the_lexicon_loads() -> None:
    with pytest.raises(LexiconError, match="unknown word set"):
        parse_lexicon(_minimal(cues={"x": {"label": "x", "patterns": ["@nosuchset"]}}))
    with pytest.raises(LexiconError, match="bad regular expression"):
        parse_lexicon(_minimal(cues={"x": {"label": "x", "patterns": ["/([/"]}}))


def test_a_bare_yaml_boolean_in_a_word_list_is_refused() -> None:
    with pytest.raises(LexiconError, match="boolean"):
        parse_lexicon(_minimal(negation={**NEGATION, "negators": [False]}))


def test_unknown_keys_anywhere_are_refused_all_at_once() -> None:
    data = _minimal(
        cues={"x": {"label": "x", "patterns": ["hello"], "examlpes": ["hello"], "critcal": True}},
        negation={**NEGATION, "windwo": 3},
        marker={},
    )
    with pytest.raises(LexiconError) as refused:
        parse_lexicon(data)
    message = str(refused.value)
    for problem in [
        "cues.yml: unknown key 'marker'",
        "cues.x: unknown key 'examlpes'",
        "cues.x: unknown key 'critcal'",
        "negation: unknown key 'windwo'",
    ]:
        assert problem in message


def test_names_that_do_not_resolve_are_refused_all_at_once() -> None:
    data = _minimal(
        cues={
            "x": {"label": "x", "patterns": ["~send @imgae", "@share_objct me"]},
            "y": {"label": "y", "criterion": "cohercion", "patterns": ["hello"]},
        },
        markers={"hypothetical": ["what if @nosuchset"]},
    )
    with pytest.raises(LexiconError) as refused:
        parse_lexicon(data)
    message = str(refused.value)
    for problem in ["@imgae", "@share_objct", "@nosuchset", "cues.y.criterion: 'cohercion'"]:
        assert problem in message


def test_missing_keys_and_wrong_types_are_refused() -> None:
    data = _minimal(cues={"x": {"patterns": "hello", "examples": "hello", "critical": "yes"}})
    del data["ages"]
    with pytest.raises(LexiconError) as refused:
        parse_lexicon(data)
    message = str(refused.value)
    for problem in [
        "cues.yml: missing key 'ages'",
        "cues.x: missing key 'label'",
        "cues.x.patterns: expected a list of text",
        "cues.x.examples: expected a list of text",
        "cues.x.critical: expected true or false",
    ]:
        assert problem in message
