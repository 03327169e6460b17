"""The server's fresh ids: random UUIDs as uuid4 spells them, hex as secrets does, never twice."""

from __future__ import annotations

import multiprocessing
import re
import uuid

from dagkit.server.ids import new_uuid, random_hex


def test_new_uuids_are_version_4_spelled_as_uuid4_and_distinct() -> None:
    ids = [new_uuid() for _ in range(5000)]  # more than one pool's worth
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == text


def test_random_hex_has_two_lowercase_digits_a_byte() -> None:
    values = [random_hex(4) for _ in range(2000)]
    assert all(re.fullmatch(r"[0-9a-f]{8}", v) for v in values)
    assert len(set(values)) > 1990  # 2000 draws from 2**32: a repeat or two at most
    assert re.fullmatch(r"[0-9a-f]{10000}", random_hex(5000))  # more than a pool at once


def _child_id(queue: multiprocessing.Queue[str]) -> None:
    queue.put(new_uuid())


def test_a_forked_child_does_not_hand_out_its_parents_ids() -> None:
    new_uuid()  # the pool holds bytes the child would inherit
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[str] = context.Queue()
    child = context.Process(target=_child_id, args=(queue,))
    child.start()
    from_child = queue.get(timeout=60)
    child.join(60)
    assert from_child != new_uuid()
