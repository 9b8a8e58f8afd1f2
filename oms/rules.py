"""The one rulebook (couch_design/rules/*.json), as Python reads it. validate_doc_update reads
the same files, embedded at deploy; tests/unit/test_rulebook_parity.py runs both and compares."""
from __future__ import annotations

import functools

from couch_design.deploy import load_rules


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
