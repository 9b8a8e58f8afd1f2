"""Order numbers stay unique when several processes (gunicorn workers) claim blocks at once: a
claim that loses the race is read again and retried, also where PouchDB Server answers the lost
race with 403 ("A counter only moves forward") instead of 409."""
from concurrent.futures import ThreadPoolExecutor

from oms.numbers import NumberAllocator


def test_allocators_of_several_processes_never_hand_out_a_number_twice(person):
    _, db = person("sally")
    allocators = [NumberAllocator(block=2) for _ in range(6)]  # six "processes", tiny blocks
    with ThreadPoolExecutor(12) as pool:
        numbers = list(pool.map(lambda i: allocators[i % 6].next(db), range(120)))
    assert len(set(numbers)) == 120
