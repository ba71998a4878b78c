"""The one reading of true/false query arguments (result=, dry_run=, force=, replace=)."""
from __future__ import annotations

import pytest

from bots_scheduler.errors import InvalidInput
from bots_scheduler.web.handlers.base import parse_flag

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text", ["true", "True", "1", "yes", "on", " TRUE "])
def test_true_words(text):
    assert parse_flag("force", text, default=False) is True


@pytest.mark.parametrize("text", ["false", "0", "no", "off", "Off"])
def test_false_words(text):
    assert parse_flag("force", text, default=True) is False


@pytest.mark.parametrize("text", [None, "", "  "])
def test_absent_or_empty_is_the_default(text):
    assert parse_flag("result", text, default=True) is True
    assert parse_flag("result", text, default=False) is False


def test_anything_else_is_refused_with_the_argument_named():
    with pytest.raises(InvalidInput, match=r"^dry_run must be true or false, not 'maybe'$"):
        parse_flag("dry_run", "maybe", default=False)
