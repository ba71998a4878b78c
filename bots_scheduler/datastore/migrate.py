"""Bring tables made by an older version up to date: add the columns it did not have.

``create_all`` makes missing tables but never changes existing ones.  New columns are always
nullable without a server default, so ``ALTER TABLE ... ADD COLUMN`` works the same on SQLite,
PostgreSQL and MySQL, and running this again changes nothing.
"""
from __future__ import annotations

import logging

from sqlalchemy import inspect, text

log = logging.getLogger(__name__)


def add_missing_columns(engine, metadata) -> list[str]:
    """Add the columns of ``metadata``'s tables that the database lacks; return them."""
    added = []
    inspector = inspect(engine)
    preparer = engine.dialect.identifier_preparer
    for table in metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            kind = column.type.compile(dialect=engine.dialect)
            with engine.begin() as conn:
                conn.execute(text(f"ALTER TABLE {preparer.quote(table.name)} ADD COLUMN "
                                  f"{preparer.quote(column.name)} {kind}"))
            log.warning("datastore: added column %s.%s (%s) for this version",
                        table.name, column.name, kind)
            added.append(f"{table.name}.{column.name}")
        for index in table.indexes:
            if index.name not in {i["name"] for i in inspector.get_indexes(table.name)}:
                index.create(engine, checkfirst=True)
    return added
