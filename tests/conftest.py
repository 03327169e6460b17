"""Settings and fixtures every test module shares.

Hypothesis runs under one profile for the whole suite: no per-example deadline (a deadline is a
timed assertion, and this machine is shared: time limits live in ``tests/bench/``). Where ``CI``
is set the ``ci`` profile is used: derandomized, so a run is reproducible, and without the
example database, so a failure seen once on one machine is not replayed forever. Choose another
profile with ``HYPOTHESIS_PROFILE=dev`` or pytest's ``--hypothesis-profile``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# ``too_slow`` is a timed check too: on a loaded machine data generation slows down with it.
_UNTIMED = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("dev", **_UNTIMED)
settings.register_profile("ci", **_UNTIMED, derandomize=True, database=None, print_blob=True)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


@pytest.fixture(autouse=True)
def _secrets_stay_in_their_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets registered for redaction during a test are forgotten after it: a test key such
    as ``test`` must not hide the word "test" from the output of the tests that follow."""
    from dagkit.http import redact

    monkeypatch.setattr(redact, "_secrets", set(redact._secrets))
    monkeypatch.setattr(redact, "_pattern", None)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for ``localhost`` and 127.0.0.1, and its key (PEM files)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key
