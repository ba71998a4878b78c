"""Coming from ndscheduler 0.3 or the original Bots Scheduler (CONTRACT §9).

``migrate`` copies their datastore into ours (``bots-scheduler migrate``); ``jobstate`` reads
the jobs APScheduler 3.0 pickled there without running code from that database; ``source``
reads the old tables; ``results`` turns their stored results into our reports.
"""
