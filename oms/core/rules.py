"""The one rulebook (couch_design/rules/*.json), as Python reads it. validate_doc_update reads
the same files, embedded at deploy; tests/unit/test_rulebook_parity.py runs both and compares."""
from __future__ import annotations

import functools
import json
from pathlib import Path

# Data, not code: the design documents' folder holds the rulebook, and the package data carries it.
RULES = Path(__file__).resolve().parents[2] / "couch_design" / "rules"


def load_rules() -> dict[str, dict]:
    """Every rules/*.json as read now (deploy embeds these; the app keeps them, see rules())."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(RULES.glob("*.json"))}


@functools.cache
def rules() -> dict[str, dict]:
    return load_rules()


def workflow() -> dict:
    return rules()["workflow"]


def acl() -> dict:
    return rules()["acl"]


def schema() -> dict:
    return rules()["schema"]


def credit() -> dict:
    """priority.json's credit rules: exposure states, limits, approvals (customers, exposure)."""
    return rules()["priority"]["credit"]
