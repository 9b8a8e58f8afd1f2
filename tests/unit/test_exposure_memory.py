"""The exposure a process remembers between placement passes (oms/core/memories.py): how long a
figure serves, which customers a query asks for, and that a figure read while this process
changed that customer's exposure is never kept."""
from __future__ import annotations

import pytest

from oms.core.memories import ExposureMemory
from oms.crm import exposure


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def memory(clock):
    return ExposureMemory(clock)


def test_a_figure_serves_for_the_rules_seconds_then_is_asked_again(memory, clock):
    period = ExposureMemory.seconds()
    assert period > 0
    memory.store("db", {"customer:A": 500, "customer:B": 0}, clock())
    assert memory.recall("db", ["customer:A", "customer:B", "customer:C"]) == {"customer:A": 500, "customer:B": 0}
    assert memory.recall("other", ["customer:A"]) == {}
    clock.now += period
    assert memory.recall("db", ["customer:A"]) == {"customer:A": 500}
    clock.now += 0.001
    assert memory.recall("db", ["customer:A"]) == {}


def test_approvals_written_count_and_a_forgotten_customer_is_asked_again(memory, clock):
    memory.store("db", {"customer:A": 500}, clock())
    memory.add("db", "customer:A", 250)
    assert memory.recall("db", ["customer:A"]) == {"customer:A": 750}
    memory.forget("db", ["customer:A"])
    assert memory.recall("db", ["customer:A"]) == {}


def test_a_query_asks_for_the_missing_and_for_those_past_half_their_period(memory, clock):
    assert memory.to_ask("db", []) == []   # nothing missing: no query at all
    memory.store("db", {"customer:OLD": 1}, clock())
    clock.now += ExposureMemory.seconds() / 2 + 0.01
    memory.store("db", {"customer:NEW": 2}, clock())
    assert memory.to_ask("db", ["customer:X"]) == ["customer:X", "customer:OLD"]
    many = [f"customer:M{i}" for i in range(ExposureMemory.REFRESH_MOST + 5)]
    assert memory.to_ask("db", many) == many   # the missing ones always; riders only up to the cap


def test_a_figure_asked_before_this_process_changed_the_customer_is_not_kept(memory, clock):
    memory.store("db", {"customer:A": 100}, clock())
    asked_at = clock()
    clock.now += 0.01
    memory.add("db", "customer:A", 40)                    # written while the query was out
    memory.store("db", {"customer:A": 100}, asked_at)     # its answer may not include those 40
    assert memory.recall("db", ["customer:A"]) == {"customer:A": 140}

    asked_at = clock()
    clock.now += 0.01
    memory.forget("db", ["customer:A"])                   # an order moved into exposure meanwhile
    memory.store("db", {"customer:A": 140}, asked_at)
    assert memory.recall("db", ["customer:A"]) == {}

    asked_at = clock()
    clock.now += 0.01
    memory.add("db", "customer:B", 70)                    # approved while nothing was remembered
    memory.store("db", {"customer:B": 0}, asked_at)
    assert memory.recall("db", ["customer:B"]) == {}
    clock.now += 0.01
    memory.store("db", {"customer:B": 70}, clock())       # asked after: kept
    assert memory.recall("db", ["customer:B"]) == {"customer:B": 70}


@pytest.mark.parametrize("profile, order, remembered, ok", [
    ({}, 10**12, 10**12, True),                                          # no limit: any figure will do
    ({"credit_limit_cents": 10_000}, 4_000, 5_000, True),                # 9,000: a tenth left
    ({"credit_limit_cents": 10_000}, 4_001, 5_000, False),               # closer: read afresh
    ({"credit_limit_cents": 10_000, "open_balance_cents": 2_000}, 4_000, 3_000, True),
    ({"credit_limit_cents": 10_000, "open_balance_cents": 2_001}, 4_000, 3_000, False),
    ({"credit_limit_cents": 0}, 0, 0, True),
    ({"credit_limit_cents": 0}, 1, 0, False),
])
def test_a_remembered_figure_decides_only_far_from_the_limit(profile, order, remembered, ok):
    assert exposure.trusted(profile, order, remembered) is ok
