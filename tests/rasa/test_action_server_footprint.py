"""The action server loads what the assessment needs and nothing heavier.

It rebuilds each turn's reading from Rasa's entities, so it needs neither spaCy nor, through
spaCy's thinc, TensorFlow: importing them took its resident memory from about 200 MB to 770 MB.
"""

import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
HEAVY = ("spacy", "thinc", "tensorflow", "rasa")


def test_the_action_servers_modules_and_assessor_load_without_spacy_or_tensorflow() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, actions.safety, actions.handoff;"
            "from actions.conversation_reading import assessor; assessor();"
            "print(' '.join(sorted({name.split('.')[0] for name in sys.modules})))",
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert not set(HEAVY) & set(loaded)
