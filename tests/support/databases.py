"""Fresh databases on the machine's real PostgreSQL and MariaDB servers."""
from __future__ import annotations

import contextlib
import uuid
from pathlib import Path

import psycopg
import pymysql

from tests.support.services import require

DATABASES = ("sqlite", "postgresql", "mysql")
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
MY = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}


def write_db_ini(workdir: Path, text: str) -> Path:
    conf = Path(workdir) / "conf"
    conf.mkdir(exist_ok=True)
    path = conf / "db.ini"
    path.write_text(text)
    return path


@contextlib.contextmanager
def fresh_database(dbms: str, workdir: Path):
    """Create an empty database, write its profile to conf/db.ini, drop it afterwards.
    Yields the ``run`` arguments that select it."""
    name = f"bs_test_{uuid.uuid4().hex[:12]}"
    if dbms == "sqlite":
        yield ["--dbms", "sqlite"]
        return
    require(dbms)            # skipped (failed in CI) when its server is not running
    if dbms == "postgresql":
        with psycopg.connect(**PG, dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        write_db_ini(workdir, f"[postgresql]\nuser = postgres\npassword =\nhostname = 127.0.0.1\n"
                              f"port = 5432\ndatabase = {name}\nsslmode = disable\n")
        try:
            yield ["--dbms", "postgresql"]
        finally:
            with psycopg.connect(**PG, dbname="postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    if dbms == "mysql":
        conn = pymysql.connect(**MY, autocommit=True)
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        conn.close()
        write_db_ini(workdir, f"[mysql]\nuser = root\npassword =\nhostname = 127.0.0.1\n"
                              f"port = 3306\ndatabase = {name}\n")
        try:
            yield ["--dbms", "mysql"]
        finally:
            conn = pymysql.connect(**MY, autocommit=True)
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            conn.close()
        return
    raise ValueError(dbms)
