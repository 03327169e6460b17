"""Where a finding is: its part of a form body and its path in a JSON document stay structured;
their text forms (the part label, the RFC 6901 pointer) are derived for reports."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dagkit.core import pointers
from dagkit.findings import REQUEST_DATA_PART, Finding, Part, finding


@pytest.mark.parametrize(
    ("part", "label", "file_index"),
    [
        (REQUEST_DATA_PART, "request_data", None),
        (Part.file(3, "report.pdf"), 'input_files[3] "report.pdf"', 3),
        (Part.file(0, ""), 'input_files[0] ""', 0),
        (Part.file(0, None), "input_files[0]", 0),
        (Part("input_files"), "input_files", None),
        (Part.placed("part", 4, None), "part[4]", None),
        (Part.placed("part", 2, "extra"), 'part[2] "extra"', None),
        (Part.placed("field", 1, "input_files"), 'field[1] "input_files"', None),
    ],
)
def test_a_part_is_a_record_with_its_label_derived(
    part: Part, label: str, file_index: int | None
) -> None:
    assert (part.label, str(part), part.file_index) == (label, label, file_index)
    f = finding("DK410", "m", part=part, path=("job_nodes", 0))
    assert f.to_dict()["part"] == label
    assert f.inside() == f"part {label}, /job_nodes/0"


def test_the_pointer_is_derived_from_the_path_with_tokens_escaped() -> None:
    f = finding("DK210", "m", path=("job_nodes", 2, "settings", "a/b~c"))
    assert f.pointer == "/job_nodes/2/settings/a~1b~0c"
    assert finding("DK207", "m").pointer == ""
    assert f.to_dict()["pointer"] == f.pointer


PATHS = st.lists(st.text(max_size=5) | st.integers(min_value=0, max_value=99), max_size=6)


@given(path=PATHS)
def test_the_pointer_reads_back_as_the_path(path: list[str | int]) -> None:
    f = Finding("DK200", "m", path=tuple(path))
    assert pointers.split(f.pointer) == [str(token) for token in path]
