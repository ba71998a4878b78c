"""``python -m bots_scheduler`` is the ``bots-scheduler`` command."""
import sys

from bots_scheduler.cli.main import main

sys.exit(main())
