"""``from botscheduler import *``: the job API of the original Bots Scheduler (CONTRACT §9).

It gives what ``from bots_scheduler import *`` gives, plus what the original's ``botscheduler``
module gave its job modules: ``OrderedDict``, ``ip2int`` and the report items of tinyscript's
report module with their arguments (bots_scheduler/legacy/jobapi.py), which replace ours of the
same name here.  New job modules use ``from bots_scheduler import *``.
"""
import bots_scheduler as _clean
from bots_scheduler import *  # noqa: F401,F403
from bots_scheduler import __version__  # noqa: F401
from bots_scheduler.legacy.jobapi import *  # noqa: F401,F403
from bots_scheduler.legacy.jobapi import __all__ as _original

__all__ = [name for name in _clean.__all__ if name not in _original] + list(_original)
