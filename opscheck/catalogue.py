"""The project's catalogue of the manual's items: the IDs checks may name, with both wordings."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True)
class Item:
    id: str
    ja: str
    en: str
    schedule: str


@cache
def catalogue() -> dict[str, Item]:
    raw = tomllib.loads(files("opscheck").joinpath("catalogue.toml").read_text(encoding="utf-8"))
    return {key: Item(id=key, **value) for key, value in raw.items()}
