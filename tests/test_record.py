"""``dagkit.core.record.Record``: what the frozen dataclasses it replaced gave, kept."""

from __future__ import annotations

import copy
import pickle

import pytest

from dagkit.core.record import Record
from dagkit.errors import Advice, AdviceKind
from dagkit.findings import CODES, Finding, NodeRef, Part, Rule
from dagkit.model.dag import Node
from dagkit.validate.files import FileResult


class Point(Record):
    __slots__ = ("x", "y")
    y: int  # annotated first: the annotations give the order, not __slots__
    x: int

    def __init__(self, y: int, x: int = 0) -> None:
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "x", x)


class Other(Point):
    __slots__ = ()


def test_fields_follow_the_annotations() -> None:
    assert Point._fields == ("y", "x")
    assert Finding._fields[:4] == ("code", "message", "severity", "hint")
    assert repr(Point(1, 2)) == "Point(y=1, x=2)"


def test_equal_and_hashed_by_class_and_values() -> None:
    assert Point(1, 2) == Point(1, 2) and hash(Point(1, 2)) == hash(Point(1, 2))
    assert Point(1, 2) != Point(2, 1)
    assert Point(1, 2) != Other(1, 2)  # as a dataclass: another class is never equal
    assert Point(1, 2) != (1, 2)
    assert len({Point(1), Point(1), Point(2)}) == 2


def test_immutable() -> None:
    point = Point(1)
    with pytest.raises(AttributeError):
        point.x = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del point.x  # type: ignore[misc]
    with pytest.raises(AttributeError):
        point.z = 1  # type: ignore[attr-defined]
    assert point.x == 0


def test_replace_copies_with_changes() -> None:
    point = Point(1, 2)
    assert point.replace(x=5) == Point(1, 5) and point == Point(1, 2)
    with pytest.raises(TypeError):
        point.replace(z=1)


@pytest.mark.parametrize(
    "record",
    [
        Point(1, 2),
        Finding("DK101", "repeated", "warning", path=("a", 0), line=1, node=NodeRef(0, "n")),
        Finding("DK409", "no filename", part=Part.file(2, "a.pdf")),
        Advice.of(AdviceKind.FOLLOW_JOB, job_id="j"),
        CODES["DK100"],
        FileResult("a.json", "request-data", [Finding("DK100", "x")]),
        Node("P", "partition", "vlm", {"is_dynamic": True}),
    ],
)
def test_pickles_and_copies(record: Record) -> None:
    # a process pool sends results back pickled
    assert pickle.loads(pickle.dumps(record)) == record
    assert copy.deepcopy(record) == record and copy.copy(record) == record


def test_a_field_left_out_of_slots_is_refused() -> None:
    with pytest.raises(TypeError):

        class Broken(Record):
            __slots__ = ("a",)
            a: int
            b: int


def test_unhashable_values_make_an_unhashable_record() -> None:
    with pytest.raises(TypeError):
        hash(FileResult("a.json", "request-data"))
    with pytest.raises(TypeError):
        hash(Node("P", "partition", "vlm"))


def test_records_of_the_validate_path() -> None:
    assert isinstance(CODES["DK100"], Rule) and CODES["DK100"].replace(name="x").name == "x"
    assert Node("P", "partition", "vlm").settings == {}
    assert Node("P", "partition", "vlm").settings is not Node("P", "partition", "vlm").settings
