"""The file given to ``mitmdump -s``: mitmproxy loads it as a script and reads ``addons``.

Kept separate from addon.py so importing the addon (tests, tools) has no side effect.
"""
from bots_scheduler.proxy.addon import BotsAuth

addons = [BotsAuth()]
