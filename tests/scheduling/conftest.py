"""Fixtures of the scheduling tests."""
from __future__ import annotations

import pytest
import sqlalchemy


@pytest.fixture
def engine(tmp_path):
    """A fresh SQLite database for a jobs table."""
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    yield engine
    engine.dispose()
