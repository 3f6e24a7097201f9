"""Build the project's spaCy pipeline (blank English + lookup lemmas) and save it under build/.

Run in the Rasa environment (spaCy 3.4); Rasa's SpacyNLP and the risk-cue
component load it from disk, so nothing is downloaded at run time.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from safeguarding.reader import build_pipeline  # noqa: E402

if __name__ == "__main__":
    target = Path(sys.argv[1])
    target.parent.mkdir(parents=True, exist_ok=True)
    build_pipeline().to_disk(target)
    print(f"spaCy pipeline saved to {target}")
