"""The terminal chat and the notice machinery start without aiogram: it takes seconds to load,
and they send to no messenger until one is configured."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize("module", ["bot.shell", "notifications.runtime", "dialogs.app"])
def test_importing_loads_no_messenger_framework(module: str) -> None:
    loaded = "sorted(m for m in sys.modules if m.startswith('aiogram'))"
    probe = f"import sys, {module}; print({loaded})"
    found = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"
