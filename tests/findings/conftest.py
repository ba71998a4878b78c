"""Fixtures of the findings tests: a FindingStore on a fresh database of each DBMS."""
from __future__ import annotations

from pathlib import Path

import pytest

from bots_scheduler.cli.definition import build_parser
from bots_scheduler.datastore.store import make_engine
from bots_scheduler.findings.store import FindingStore
from bots_scheduler.settings import database_settings


@pytest.fixture
def finding_store(database):
    options = build_parser().parse_args(["run", *database])
    settings = database_settings(options, Path("data"))
    engine = make_engine(settings, pool_size=2)
    store = FindingStore(engine, "scheduler_findings")
    store.create_tables()
    yield store
    engine.dispose()
