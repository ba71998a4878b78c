"""In CI (CI=true, as .ci/run sets) nothing may skip: a skipped test is reported as failed,
whatever skipped it (a missing service, an import, a marker). Loaded by tests/conftest.py."""
from __future__ import annotations

import pytest

from tests.support.services import in_ci


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.skipped and in_ci() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where no test may skip: {reason}"
    return report
