from __future__ import annotations

import time

from yaji.core.ids import new_event_id


def test_event_ids_are_uuid7_strictly_increasing_and_carry_the_time() -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_event_id() for _ in range(5000)]  # many share a millisecond
    after = time.time_ns() // 1_000_000

    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(i.version == 7 and i.variant == "specified in RFC 4122" for i in ids)
    assert before <= ids[0].int >> 80 <= ids[-1].int >> 80 <= after + 2
