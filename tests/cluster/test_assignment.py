from __future__ import annotations

from cluster.assignment import assign, owner

TARGETS = [f"target-{i}" for i in range(600)]
WORKERS = ["host-a:101", "host-b:202", "host-c:303"]


def test_every_target_has_exactly_one_owner_among_the_workers() -> None:
    shares = assign(TARGETS, WORKERS)
    flat = [t for ts in shares.values() for t in ts]
    assert sorted(flat) == sorted(TARGETS) and set(shares) == set(WORKERS)


def test_targets_are_spread_evenly_over_the_workers() -> None:
    sizes = [len(ts) for ts in assign(TARGETS, WORKERS).values()]
    assert min(sizes) > 0.8 * len(TARGETS) / 3 and max(sizes) < 1.2 * len(TARGETS) / 3


def test_the_answer_does_not_depend_on_the_order_of_the_worker_list() -> None:
    assert all(owner(t, WORKERS) == owner(t, list(reversed(WORKERS))) for t in TARGETS)


def test_a_joining_worker_takes_targets_only_from_the_others_and_only_its_share() -> None:
    before = {t: owner(t, WORKERS) for t in TARGETS}
    after = {t: owner(t, [*WORKERS, "host-d:404"]) for t in TARGETS}
    moved = [t for t in TARGETS if before[t] != after[t]]
    assert all(after[t] == "host-d:404" for t in moved)
    assert 0.15 * len(TARGETS) < len(moved) < 0.35 * len(TARGETS)


def test_a_leaving_worker_moves_only_its_own_targets() -> None:
    before = {t: owner(t, WORKERS) for t in TARGETS}
    after = {t: owner(t, WORKERS[1:]) for t in TARGETS}
    moved = {t for t in TARGETS if before[t] != after[t]}
    assert moved == {t for t in TARGETS if before[t] == WORKERS[0]}


def test_no_workers_means_no_owner() -> None:
    assert owner("db", []) is None
