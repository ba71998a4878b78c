"""Alerts: short messages to chat and webhook services through Apprise (CONTRACT §8).

``profiles`` reads and checks the ``--alert-config`` INI file; ``urls`` turns a profile's URLs
into Apprise services without ever writing a URL to a log or an answer; ``messages`` builds the
text; ``policy`` decides which events of a run a profile hears about; ``sender`` delivers off the
run's critical path, with retries, and records the outcome on the execution (``alerts``).
"""
