"""The Notes-style view catalog (catalog.json): each view declared once, with the design view it
reads, its columns and who may open it."""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from oms.acl import Access


@dataclass(frozen=True)
class ViewDef:
    name: str
    title: str
    group: str
    design: str
    view: str
    key: tuple[str, ...]
    columns: tuple[dict, ...]
    min_level: str
    page_size: int

    def may_open(self, access: Access) -> bool:
        return access.at_least(self.min_level)


@functools.cache
def catalog() -> dict[str, ViewDef]:
    raw = json.loads((Path(__file__).parent / "catalog.json").read_text())
    return {name: ViewDef(name=name, title=v["title"], group=v.get("group", ""), design=v["design"],
                          view=v["view"], key=tuple(v["key"]), columns=tuple(v["columns"]),
                          min_level=v.get("min_level", "reader"), page_size=v.get("page_size", 50))
            for name, v in raw.items()}


def get(name: str) -> ViewDef | None:
    return catalog().get(name)


def visible_to(access: Access) -> list[ViewDef]:
    return [v for v in catalog().values() if v.may_open(access)]
