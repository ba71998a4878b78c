"""Several schedulers on one datastore: membership, the leader's lease, the single-instance lock
of SQLite, and the reaping of executions whose process died."""
