"""Age bands (SAFEGUARDING.md, How the bot talks): under 13, 13 to 15, 16 to 17, 18 and over, unknown."""

from __future__ import annotations

AGE_BANDS = ("under_13", "13_15", "16_17", "18_plus", "unknown")


def age_band_for(age: int | None) -> str:
    if age is None:
        return "unknown"
    if age < 13:
        return "under_13"
    if age < 16:
        return "13_15"
    if age < 18:
        return "16_17"
    return "18_plus"
