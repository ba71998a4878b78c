"""Job plugins: the JobBase API, report items, discovery and the built-in jobs."""
