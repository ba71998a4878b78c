"""The secrets tests use the real SMTP servers of the notification tests."""
from tests.notifications.conftest import smtp_ini, smtp_server, tls_files  # noqa: F401
