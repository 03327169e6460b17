"""Sample documents the tests share, read from the example goldens so they cannot drift."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

#: The quickstart request_data (Auto partition -> chunk by title -> Azure OpenAI embed), parsed.
QUICKSTART: dict[str, Any] = json.loads(
    (EXAMPLES / "quickstart.request_data.json").read_text(encoding="utf-8")
)


def interruptible() -> None:
    """``preexec_fn`` for a child the test sends SIGINT: a shell that runs the suite in the
    background leaves SIGINT ignored, a child inherits that, and Python then installs no
    KeyboardInterrupt handler, so Ctrl-C would never arrive."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
