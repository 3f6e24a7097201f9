"""The message reader: risk cues, negation and hypothetical scope, and stated facts.

Runs in both environments (spaCy 3.4 under Rasa, current spaCy in the app), since
both read messages with it.
"""

import pytest

from safeguarding.reader import MessageReader
from safeguarding.reading import ASSERTED, HYPOTHETICAL, NEGATED


def polarities(reader: MessageReader, text: str, cue: str) -> set[str]:
    return {c.polarity for c in reader.read(text).cues if c.name == cue}


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("hes saying hell post my nudes unless i send £50", "threat_to_share"),
        ("she said shes gonna send the pics to my whole year if i block her", "threat_to_share"),
        ("he keeps threatening me", "threat"),
        ("some guy wants 200 quid or my family sees everything", "money_demand"),
        ("now he wants more pics", "image_demand"),
        ("my bf wont stop asking for nudes even tho i said no", "pressure"),
        ("he said if i loved him i would", "pressure"),
        ("hes making me send photos every day", "forced"),
        ("i want to kms", "suicide"),
        ("i dont want to be alive anymore", "suicide"),
        ("ive been cutting myself again", "self_harm"),
        ("hes outside my house right now", "danger_now"),
        ("he said its our secret and not to tell my mum", "secrecy"),
        ("he offered me robux if i sent a pic", "gifts_for_images"),
        ("i dont want to live anymore", "suicide"),
        ("i want to end it", "suicide"),
        ("i just want to be dead", "suicide"),
        ("i dont see the point in living", "suicide"),
        ("i want to sleep and never wake up", "suicide"),
        ("nobody would care if i died", "suicide"),
        ("im not gonna be here tomorrow", "suicide"),
        ("i wish i could just vanish", "suicide"),
        ("I have been self-harming since it happened", "self_harm"),
        ("ive relapsed", "self_harm"),
        ("im not safe at home", "danger_now"),
        ("theres a man at my door and im home alone", "danger_now"),
        ("hes on his way to my house and hes angry", "danger_now"),
        ("i hope i dont wake up tomorrow", "suicide"),
        ("ive been stockpiling tablets", "suicide"),
        ("im stood on the bridge right now", "suicide"),
        ("i scratched my arms til they bled", "self_harm"),
        ("he followed me to the park and i cant get away from him", "danger_now"),
    ],
)
def test_finds_asserted_cues(reader: MessageReader, text: str, cue: str) -> None:
    assert ASSERTED in polarities(reader, text, cue)


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("no one is forcing me to do anything", "forced"),
        ("he didnt threaten me", "threat"),
        ("nobodys blackmailing me lol", "threat"),
        ("im not in any danger", "danger_now"),
        ("im not thinking of hurting myself", "self_harm"),
    ],
)
def test_negation_scope(reader: MessageReader, text: str, cue: str) -> None:
    assert polarities(reader, text, cue) == {NEGATED}


def test_a_negated_stop_is_no_negation(reader: MessageReader) -> None:
    assert polarities(reader, "he won't stop asking me to send pics", "pressure") == {ASSERTED}
    assert polarities(reader, "i cant stop thinking about killing myself", "suicide") == {ASSERTED}


def test_a_new_i_clause_ends_a_negation_of_a_critical_cue(reader: MessageReader) -> None:
    assert ASSERTED in polarities(reader, "i cant cope i want to die", "suicide")
    assert polarities(reader, "i dont want to die", "suicide") == {NEGATED}
    # Other cues keep the whole window.
    assert polarities(reader, "nobody i met has threatened me", "threat") == {NEGATED}


def test_a_cue_that_opens_its_own_clause_is_not_negated_by_the_clause_before(reader: MessageReader) -> None:
    assert polarities(reader, "he wont delete them unless i do what he says", "threat") == {ASSERTED}


def test_a_negated_like_negates_the_clause_it_opens(reader: MessageReader) -> None:
    assert polarities(reader, "its not like hes pressuring me", "pressure") == {NEGATED}
    # "like" the verb opens nothing: not liking it is no denial.
    assert polarities(reader, "i dont like it when he threatens me", "threat") == {ASSERTED}


def test_a_parent_who_will_kill_me_is_a_figure_of_speech_but_one_who_will_beat_me_is_not(
    reader: MessageReader,
) -> None:
    assert not polarities(reader, "my mum said shes going to kill me", "violence_threat")
    assert polarities(reader, "my dad said hes going to beat me", "violence_threat") == {ASSERTED}


def test_said_no_is_an_answer_not_a_negation(reader: MessageReader) -> None:
    assert ASSERTED in polarities(reader, "i said no he kept asking for pics", "pressure")


def test_hypothetical_framing(reader: MessageReader) -> None:
    reading = reader.read("what would happen if someone threatened to share a pic of you?")
    assert reading.hypothetical
    assert polarities(reader, "what would happen if someone threatened to share a pic of you?", "threat") == {
        HYPOTHETICAL
    }


def test_a_real_threat_before_a_question_stays_real(reader: MessageReader) -> None:
    text = "hes threatening to post my pics. what if he actually does it"
    assert ASSERTED in polarities(reader, text, "threat")


@pytest.mark.parametrize(
    "text",
    [
        "this revision is literally killing me",
        "my mum would kill me if she found out",
        "im dead 💀 that video is so funny",
        "can you keep this a secret from my parents",
        "should i tell a teacher about it",
        "im afraid theyll find out",
        "will i get a criminal record if i sent a nude of myself",
    ],
)
def test_idioms_and_help_seeking_are_not_cues(reader: MessageReader, text: str) -> None:
    reading = reader.read(text)
    assert [c.name for c in reading.cues if c.criterion and c.asserted] == []
    assert not reading.asserted("adult")


@pytest.mark.parametrize(
    ("text", "own", "others"),
    [
        ("im 14 and hes 19", 14, (19,)),
        ("i'm fourteen", 14, ()),
        ("15", 15, ()),
        ("were both 16", 16, (16,)),
        ("I'm nearly 13", 12, ()),
        ("a man who is 24 messaged me", None, (24,)),
        ("a guy in his 30s", None, (30,)),
        ("im 15 mins away", None, ()),
        ("im 16 and my bf just turned 18", 16, (18,)),
        ("hes passed his test, he turned 18 in march", None, (18,)),
        ("just turned 14", 14, ()),
    ],
)
def test_ages(reader: MessageReader, text: str, own: int | None, others: tuple[int, ...]) -> None:
    reading = reader.read(text)
    assert reading.own_age == own
    assert reading.other_ages == others


def test_a_sibling_age_is_a_third_party_age(reader: MessageReader) -> None:
    reading = reader.read("my little sister is 11")
    assert reading.third_party_ages == (11,)
    assert reading.third_party
    assert reading.other_ages == ()


def test_school_years_nation_and_platform(reader: MessageReader) -> None:
    reading = reader.read("im in year 8 and i live in belfast, he added me on snapchat")
    assert reading.own_school_year == "y8"
    assert reading.nation == "northern_ireland"
    assert "snapchat" in reading.platforms


@pytest.mark.parametrize("text", ["year 7 here", "im a year 7", "i'm in year 7"])
def test_own_school_year_in_the_ways_people_say_it(reader: MessageReader, text: str) -> None:
    assert reader.read(text).own_school_year == "y7"


def test_someone_in_a_school_year_is_not_the_young_person(reader: MessageReader) -> None:
    reading = reader.read("can you get in trouble for a nude of a year 7")
    assert reading.other_school_years == ("y7",)
    assert reading.own_school_year is None
    assert reader.read("theres a video going round the year 7 gc").other_school_years == ("y7",)


@pytest.mark.parametrize(
    ("text", "polarity"),
    [
        ("he sent me a video that wasnt appropriate and said its our little secret", ASSERTED),
        ("she posted a story on insta saying its our secret", ASSERTED),
        ("we watched a video about a girl who was told to keep it secret", HYPOTHETICAL),
    ],
)
def test_a_video_or_story_is_a_post_unless_it_is_about_something(
    reader: MessageReader, text: str, polarity: str
) -> None:
    assert polarities(reader, text, "secrecy") == {polarity}


@pytest.mark.parametrize("text", ["for my epq, whats the difference between sexting and sextortion"])
def test_school_work_frames_every_cue_as_hypothetical(reader: MessageReader, text: str) -> None:
    reading = reader.read(text)
    assert reading.cues and all(cue.polarity == HYPOTHETICAL for cue in reading.cues if cue.name != "self")


def test_longest_nation_wins(reader: MessageReader) -> None:
    assert reader.read("i live in northern ireland").nation == "northern_ireland"
    assert reader.read("i live in ireland").nation == "outside_uk"


def test_quotes_come_from_the_original_text(reader: MessageReader) -> None:
    text = "He’s THREATENING to post them"
    cue = next(c for c in reader.read(text).cues if c.name == "threat")
    assert text[cue.start : cue.end] == cue.quote == "THREATENING to"


@pytest.mark.parametrize(
    "text",
    [
        "they'd all be better off without me",
        "everyone would be happier if i wasnt here",
        "i took a load of tablets",
        "took 12 paracetamol an hour ago",
        "been giving away all my stuff",
    ],
)
def test_indirect_suicidal_statements(reader: MessageReader, text: str) -> None:
    assert {c.name for c in reader.read(text).cues if c.asserted} & {"suicide", "self_harm"}


@pytest.mark.parametrize(
    "text",
    [
        "i want to end it with him but idk how",
        "my mum will kill me if she finds out",
        "i just want the pic to disappear",
        "r the police gonna knock on my door",
        "he said snap isnt safe",
        "my mums at the door gtg",
        "i didnt wake up in time for school",
        "he followed me on insta",
        "took 2 paracetamol for my headache",
        "my grandad takes about six different tablets a day",
        "giving away my old clothes to the charity shop",
    ],
)
def test_everyday_phrases_are_not_critical(reader: MessageReader, text: str) -> None:
    assert not [c for c in reader.read(text).cues if c.critical and c.asserted]
