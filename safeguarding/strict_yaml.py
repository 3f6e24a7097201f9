"""Reading the safeguarding data files strictly: every problem is collected, then all are refused at once.

A misspelt key or a wrong type in cues.yml or policy.yml would otherwise switch a
rule off in silence. The lexicon's and the policy's readers build on this one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class StrictReader:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def mapping(self, data: Any, where: str, required: Iterable[str], optional: Iterable[str] = ()) -> dict:
        """A mapping with these keys and no others."""
        if not isinstance(data, Mapping):
            self.problems.append(f"{where}: expected a mapping")
            return {}
        required, allowed = set(required), set(required) | set(optional)
        for key in sorted(set(data) - allowed, key=str):
            self.problems.append(f"{where}: unknown key {key!r}")
        for key in sorted(required - set(data)):
            self.problems.append(f"{where}: missing key {key!r}")
        return dict(data)

    def named(self, data: Any, where: str) -> dict:
        """A mapping from free names (word sets, cues, intents, criteria) to their definitions."""
        if not isinstance(data, Mapping):
            self.problems.append(f"{where}: expected a mapping")
            return {}
        return {str(name): value for name, value in data.items()}

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.problems.append(f"{where}: expected text")
        return str(value)
