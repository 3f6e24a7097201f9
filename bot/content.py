"""The application's user-facing words, loaded from content/."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Content:
    entries: dict[str, dict]

    def messages(self, key: str, **values: object) -> list[str]:
        return [message.format(**values) for message in self.entries[key]["messages"]]

    def text(self, key: str) -> str:
        return " ".join(self.messages(key))

    def error(self, key: str, **values: object) -> str:
        return self.entries["errors"][key].format(**values)


@cache
def load_content(content_dir: Path, name: str = "app") -> Content:
    """content/app.yml (what young people read) or content/console.yml (what staff read)."""
    with open(content_dir / f"{name}.yml", encoding="utf-8") as stream:
        return Content(yaml.safe_load(stream))
