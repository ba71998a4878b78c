"""Compatibility name: ``from botscheduler import *`` works like
``from bots_scheduler import *``."""
from bots_scheduler import *  # noqa: F401,F403
from bots_scheduler import __all__, __version__  # noqa: F401
