"""/api/v1/info (server facts for the UI) and /api/v1/cron/preview (next run times)."""
from __future__ import annotations

from datetime import datetime

from bots_scheduler import __version__
from bots_scheduler.access.roles import VIEWER
from bots_scheduler.executions.states import ACTIVE_NAMES, NAMES
from bots_scheduler.scheduling.jobspec import CRON_FIELDS, build_trigger
from bots_scheduler.web.handlers.base import ApiHandler

PREVIEW_COUNT = 5


class InfoHandler(ApiHandler):
    roles = {"get": VIEWER}
    timezone: str           # the server's default time zone
    local: bool             # --local (no proxy)

    def get(self):
        self.reply({"version": __version__, "timezone": self.timezone,
                    "user": self.user, "role": self.role,
                    "local": self.local,
                    # the UI takes the execution states from here, not from a copy
                    "states": list(NAMES), "active_states": list(ACTIVE_NAMES)})


class CronPreviewHandler(ApiHandler):
    roles = {"get": VIEWER}
    timezone: str

    def get(self):
        fields = {}
        for name in CRON_FIELDS:
            value = (self.get_query_argument(name, "") or "").strip()
            fields[name] = value or ("0" if name == "second" else "*")
        tz_name = self.get_query_argument("timezone", "") or self.timezone
        trigger = build_trigger(fields, tz_name)     # InvalidJob: 400
        times, previous = [], None
        now = datetime.now(trigger.timezone)
        for _ in range(PREVIEW_COUNT):
            nxt = trigger.get_next_fire_time(previous, previous or now)
            if nxt is None:
                break
            times.append(nxt.isoformat())
            previous = nxt
        self.reply({"next_run_times": times, "timezone": str(trigger.timezone)})
