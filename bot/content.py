"""The application's user-facing words, loaded from content/app.yml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Content:
    entries: dict[str, dict]

    def messages(self, key: str) -> list[str]:
        return list(self.entries[key]["messages"])

    def text(self, key: str) -> str:
        return " ".join(self.messages(key))

    def error(self, key: str, **values: object) -> str:
        return self.entries["errors"][key].format(**values)


@cache
def load_content(content_dir: Path) -> Content:
    with open(content_dir / "app.yml", encoding="utf-8") as stream:
        return Content(yaml.safe_load(stream))
