"""Which decision a turn is recorded with: either Rasa's or the app's safety net can open a case."""

import pytest

from bot.dialogue.flows import BotTurn, turn_decision
from safeguarding.assessment import Decision
from safeguarding.vocabulary import Action, Level

HANDOFF = Decision(Action.HANDOFF, Level.HIGH, ("coercion",))
NOTHING = Decision()


@pytest.mark.parametrize(
    ("rasa", "safety_net", "recorded"),
    [
        (NOTHING, HANDOFF, HANDOFF),
        (HANDOFF, NOTHING, HANDOFF),
        (HANDOFF, Decision(Action.HANDOFF, Level.CRITICAL, ("immediate_risk",)), HANDOFF),
        (NOTHING, NOTHING, NOTHING),
        (None, HANDOFF, HANDOFF),
        (NOTHING, None, NOTHING),
        (None, None, None),
    ],
)
def test_rasas_decision_unless_only_the_safety_net_hands_over(rasa, safety_net, recorded) -> None:
    turn = BotTurn([], rasa, answered=rasa is not None, safety_net_decision=safety_net)
    assert turn_decision(turn) is recorded
