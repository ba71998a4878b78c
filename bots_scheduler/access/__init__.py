"""Who may do what (CONTRACT §6): the three roles, and API tokens for scripts.

- ``roles``: viewer < operator < admin, and the check of a caller's role against a route's.
- ``tokens``: the API tokens table (stored hashed), created, listed and revoked by the CLI and
  checked by the scheduler for requests the proxy forwards with a bearer token.
"""
