"""The datastore chosen by --dbms, --db-profile and --db-config (settings.database_settings),
without starting anything."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bots_scheduler import defaults
from bots_scheduler.errors import UsageError
from bots_scheduler.settings import database_settings

pytestmark = pytest.mark.unit


def options(tmp_path, **given) -> argparse.Namespace:
    values = {"dbms": "sqlite", "db_profile": None, "db_config": str(tmp_path / "db.ini")}
    return argparse.Namespace(**{**values, **given})


def test_no_configuration_is_the_embedded_sqlite_datastore_in_the_data_folder(tmp_path):
    chosen = database_settings(options(tmp_path), tmp_path / "data")
    assert (chosen.dbms, chosen.profile) == ("sqlite", "sqlite")
    assert chosen.sqlite_path == tmp_path / "data" / defaults.SQLITE_NAME
    assert chosen.jobs_table == defaults.JOBS_TABLE


def test_a_postgresql_profile_becomes_a_url_without_its_password_in_messages(tmp_path):
    (tmp_path / "db.ini").write_text("[postgresql]\nuser = bots\npassword = s3cret\n"
                                     "hostname = db.example\nport = 5433\ndatabase = bots\n"
                                     "sslmode = require\n")
    chosen = database_settings(options(tmp_path, dbms="postgresql"), Path("data"))
    assert chosen.url.drivername == "postgresql+psycopg"
    assert (chosen.url.host, chosen.url.port, chosen.url.database) == ("db.example", 5433, "bots")
    assert chosen.url.query == {"sslmode": "require"}
    assert "s3cret" not in chosen.describe()


def test_a_profile_named_freely_says_its_dbms(tmp_path):
    (tmp_path / "db.ini").write_text("[reports]\ndbms = mysql\nuser = root\nhostname = h\n"
                                     "database = d\n")
    chosen = database_settings(options(tmp_path, db_profile="reports"), Path("data"))
    assert (chosen.dbms, chosen.profile, chosen.url.drivername) == \
        ("mysql", "reports", "mysql+pymysql")


@pytest.mark.parametrize(("ini", "given", "message"), [
    (None, {"dbms": "postgresql"}, "--db-config: "),
    ("[mysql]\nuser = u\n", {"dbms": "mysql"}, "[mysql]: missing hostname, database"),
    ("[postgresql]\nuser = u\nhostname = h\ndatabase = d\nport = 99999\n",
     {"dbms": "postgresql"}, "port must be 1-65535, not '99999'"),
    ("[sqlite]\n", {"db_profile": "other"}, "--db-profile: no profile 'other'"),
    ("[x]\ndbms = oracle\n", {"db_profile": "x"}, "dbms must be one of"),
])
def test_configuration_mistakes_are_one_line(tmp_path, ini, given, message):
    if ini is not None:
        (tmp_path / "db.ini").write_text(ini)
    with pytest.raises(UsageError) as caught:
        database_settings(options(tmp_path, **given), Path("data"))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_table_names_are_checked(tmp_path):
    with pytest.raises(UsageError, match=r"^--files-table: 'files;' is not a plain SQL"):
        database_settings(options(tmp_path, files_table="files;"), Path("data"))
