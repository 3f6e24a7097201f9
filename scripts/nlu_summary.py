"""Print the macro F1 from a `rasa test nlu` report folder (make nlu-report)."""

import json
import sys
from pathlib import Path

TARGET_MACRO_F1 = 0.90

if __name__ == "__main__":
    folder = Path(sys.argv[1])
    report = json.loads((folder / "intent_report.json").read_text())
    macro = report["macro avg"]["f1-score"]
    weakest = sorted(
        (
            (name, values["f1-score"])
            for name, values in report.items()
            if isinstance(values, dict)
            and "support" in values
            and name not in {"macro avg", "weighted avg", "micro avg"}
        ),
        key=lambda item: item[1],
    )[:8]
    print("Weakest intents:")
    for name, f1 in weakest:
        print(f"  {name:28} {f1:.3f}")
    print(f"Intent macro F1 (cross-validation): {macro:.3f} (target {TARGET_MACRO_F1})")
    print(f"Reports: {folder}/intent_report.json, {folder}/intent_confusion_matrix.png")
    sys.exit(0 if macro >= TARGET_MACRO_F1 else 1)
