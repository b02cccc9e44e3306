"""Shared fixtures for the standards tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Make the project root importable when pytest runs without a rootdir config;
# conftest is imported before the test modules, so their imports then work.
_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))


@pytest.fixture(scope="session")
def rules():  # -> standards.RuleSet
    from standards import load_ruleset

    return load_ruleset()
