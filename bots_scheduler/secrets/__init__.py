"""Named secrets (CONTRACT §7): values encrypted at rest, referenced from job arguments as
``{"secret": "NAME"}``, resolved by the process that runs the job, redacted from what it writes.

- ``keys``: the key (``conf/secret.key`` or ``BOTS_SCHEDULER_SECRET_KEY``).
- ``store``: the secrets table, its encryption and its queries (the table's one owner).
- ``arguments``: references and masking of secret-typed job arguments.
- ``redaction``: values replaced by ``[secret:NAME]`` in texts.
"""
