"""A sleep for the providers that records its pauses instead of waiting."""

import pytest


@pytest.fixture
def sleeps() -> list[float]:
    """Pass `sleeps.append` as a provider's sleep: no test waits, each test sees the pauses."""
    return []
