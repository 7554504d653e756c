from __future__ import annotations

import random
from dataclasses import dataclass

from taskmgr.fair_queue import FairQueue


@dataclass(eq=False)
class Item:
    owner: str
    n: int


def drain(queue: FairQueue[Item]) -> list[Item]:
    out = []
    while (item := queue.pop_next(lambda owner: True)) is not None:
        out.append(item)
    return out


def test_fifo_within_one_owner() -> None:
    queue: FairQueue[Item] = FairQueue()
    items = [Item("a", i) for i in range(5)]
    for item in items:
        queue.push(item)
    assert drain(queue) == items


def test_round_robin_across_owners_in_arrival_order() -> None:
    queue: FairQueue[Item] = FairQueue()
    for i in range(3):
        queue.push(Item("a", i))
    for i in range(3):
        queue.push(Item("b", i))
    queue.push(Item("c", 0))
    order = [(item.owner, item.n) for item in drain(queue)]
    assert order == [("a", 0), ("b", 0), ("c", 0), ("a", 1), ("b", 1), ("a", 2), ("b", 2)]


def test_owner_served_least_recently_goes_next() -> None:
    queue: FairQueue[Item] = FairQueue()
    queue.push(Item("a", 0))
    queue.push(Item("a", 1))
    first = queue.pop_next(lambda o: True)
    assert first is not None and (first.owner, first.n) == ("a", 0)
    # "b" has never been served, so it goes before "a", which just was.
    queue.push(Item("b", 0))
    assert [i.owner for i in drain(queue)] == ["b", "a"]


def test_a_late_owner_does_not_wait_behind_a_backlog() -> None:
    queue: FairQueue[Item] = FairQueue()
    for i in range(50):
        queue.push(Item("greedy", i))
    for _ in range(10):
        queue.pop_next(lambda o: True)
    late = Item("late", 0)
    queue.push(late)
    assert queue.position(late) == 1
    assert queue.pop_next(lambda o: True) is late


def test_owners_that_may_not_be_served_are_skipped_but_keep_their_turn() -> None:
    queue: FairQueue[Item] = FairQueue()
    queue.push(Item("a", 0))
    queue.push(Item("b", 0))
    first = queue.pop_next(lambda owner: owner != "a")
    assert first is not None and first.owner == "b"
    second = queue.pop_next(lambda owner: True)
    assert second is not None and second.owner == "a"
    assert queue.pop_next(lambda owner: True) is None


def test_remove_takes_an_item_out_of_the_order() -> None:
    queue: FairQueue[Item] = FairQueue()
    items = [Item("a", i) for i in range(3)]
    for item in items:
        queue.push(item)
    assert queue.remove(items[1])
    assert not queue.remove(items[1])
    assert len(queue) == 2
    assert queue.count("a") == 2
    assert drain(queue) == [items[0], items[2]]


def test_position_predicts_the_dispatch_order() -> None:
    rng = random.Random(7)
    for _ in range(30):
        queue: FairQueue[Item] = FairQueue()
        items: list[Item] = []
        for n in range(rng.randint(1, 60)):
            item = Item(f"o{rng.randint(0, 5)}", n)
            items.append(item)
            queue.push(item)
            if rng.random() < 0.2:
                queue.pop_next(lambda o: True)
            if rng.random() < 0.1 and items:
                queue.remove(rng.choice(items))
        expected = {id(item): queue.position(item) for item in items}
        for place, item in enumerate(drain(queue), start=1):
            assert expected[id(item)] == place
