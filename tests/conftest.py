"""Shared fixtures: the ../shared data (skipped cleanly when absent) and temporary stores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VIGIL_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared, or a skip saying why the test cannot run without it."""
    if not (SHARED / "seeds").is_dir():
        pytest.skip(f"../shared is absent ({SHARED}): golden tests on real articles skipped")
    return SHARED


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep each test run's caches and default store out of the user's home."""
    cache = tmp_path_factory.getbasetemp() / "vigil-cache"
    monkeypatch.setenv("VIGIL_CACHE_DIR", os.environ.get("VIGIL_TEST_CACHE_DIR", str(cache)))
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path_factory.getbasetemp() / "vigil-data"))
