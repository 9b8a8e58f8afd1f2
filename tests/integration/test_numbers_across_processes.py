"""Order numbers stay unique when several processes (gunicorn workers) claim blocks at once: a
claim that loses the race is read again and retried, also where PouchDB Server answers the lost
race with 403 ("A counter only moves forward") instead of 409."""
from concurrent.futures import ThreadPoolExecutor

from oms.store.numbers import NumberAllocator


def test_allocators_of_several_processes_never_hand_out_a_number_twice(person):
    _, db = person("sally")
    allocators = [NumberAllocator(block=2) for _ in range(6)]  # six "processes", tiny blocks
    with ThreadPoolExecutor(12) as pool:
        numbers = list(pool.map(lambda i: allocators[i % 6].next(db), range(120)))
    assert len(set(numbers)) == 120


def test_an_allocator_writes_its_next_block_on_the_counter_it_wrote_and_rereads_when_another_moved_it(person):
    _, db = person("sally")
    mine, other = NumberAllocator(), NumberAllocator()
    reads = []
    get = db.get
    db.get = lambda doc_id, **kw: reads.append(doc_id) or get(doc_id, **kw)
    first = mine.reserve(db, 3)
    second = mine.reserve(db, 3)            # on the revision it wrote: no read
    assert reads == ["counter:order"]
    theirs = other.reserve(db, 5)           # another process moves the counter
    third = mine.reserve(db, 3)             # stale revision: refused, read again, retried
    numbers = first + second + theirs + third
    assert len(set(numbers)) == len(numbers) == 14
    assert int(second[0][3:]) == int(first[-1][3:]) + 1
    assert reads.count("counter:order") >= 2 and int(third[0][3:]) > int(theirs[-1][3:])


def test_a_busy_allocator_claims_ever_bigger_blocks_and_small_ones_again_when_calm(person):
    _, db = person("sally")
    now = [0.0]
    mine = NumberAllocator(block=2, clock=lambda: now[0])
    counter = lambda: db.get("counter:order")["value"]   # noqa: E731
    sizes = []
    for _ in range(4):          # each block used up at once: 2, 4, 8, 16
        before = mine.next(db)
        sizes.append(counter() - int(before[3:]) + 1)
        for _ in range(sizes[-1] - 1):
            mine.next(db)
    assert sizes == [2, 4, 8, 16]
    now[0] += NumberAllocator.BUSY_SECONDS + 1   # calm: the next block is small again
    first = mine.next(db)
    assert counter() - int(first[3:]) + 1 == 2
    big = NumberAllocator(block=2, clock=lambda: now[0])
    big.MOST_BLOCK = 4
    for _ in range(2 + 4 + 4):  # capped at MOST_BLOCK
        last = big.next(db)
    assert counter() == int(last[3:])


def test_a_deleted_counter_carries_its_value_and_numbering_goes_on_from_it(person):
    _, carl = person("carl")            # an Editor may delete; the deletion must hold the value
    before = NumberAllocator().next(carl)
    current = carl.get("counter:order")
    gone = dict(current, _deleted=True)
    carl.save(gone)
    # The deletion is taken, carrying the value (another writer of this shared database may number
    # again at once and bring the counter back: then it goes on from the value carried).
    tombstone = carl.get("counter:order", rev=gone["_rev"])
    assert tombstone["_deleted"] is True and tombstone["value"] == current["value"]
    after = NumberAllocator().next(carl)
    assert int(after[3:]) > int(before[3:]) and int(after[3:]) > current["value"]
