"""The packages' lazy exports: loaded on first use, kept, and a clear error for any other name."""

from __future__ import annotations

import subprocess
import sys

import pytest

import dagkit
import dagkit.client


@pytest.mark.parametrize("package", [dagkit, dagkit.client])
def test_an_unknown_name_is_an_attribute_error(package: object) -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = package.nope  # type: ignore[attr-defined]


def test_a_name_is_loaded_on_first_use_and_kept() -> None:
    code = (
        "import sys, dagkit\n"
        "assert 'dagkit.client.jobs' not in sys.modules\n"
        "first = dagkit.JobsClient\n"
        "assert 'dagkit.client.jobs' in sys.modules\n"
        "assert vars(dagkit)['JobsClient'] is first\n"
        "import dagkit.client\n"
        "assert dagkit.client.JobsClient is first\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
