"""The Celery application shared by the scheduler (which sends runs) and the workers (which run
them).  Only JSON crosses the broker: an execution id and the job as it was when it fired."""
from __future__ import annotations

from urllib.parse import urlsplit

from celery import Celery

from bots_scheduler.errors import Unavailable, UsageError

TASK_NAME = "bots_scheduler.run_execution"
QUEUE = "bots_scheduler"
BROKER_SCHEMES = ("redis", "rediss", "amqp", "amqps", "pyamqp")
# a message fetched by a worker that dies before starting it comes back after this (Redis)
VISIBILITY_TIMEOUT = 300


class BrokerUnavailable(Unavailable):
    """The Celery broker does not accept a connection."""

    service = "broker"


def broker_url(value: str) -> str:
    """--broker: a redis:// or amqp:// URL (UsageError otherwise)."""
    scheme = urlsplit(value or "").scheme.lower()
    if scheme not in BROKER_SCHEMES:
        raise UsageError(f"--broker must be a redis:// or amqp:// URL (for example "
                         f"redis://127.0.0.1:6379/0 or amqp://guest:guest@127.0.0.1:5672//), "
                         f"not {value!r}")
    return value


def describe_broker(url: str) -> str:
    """The URL without its password, for logs, messages and the cluster view."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def make_celery(broker: str) -> Celery:
    celery = Celery("bots_scheduler", broker=broker, set_as_current=False)
    celery.conf.update(
        task_serializer="json", accept_content=["json"], task_ignore_result=True,
        task_default_queue=QUEUE,
        # acknowledged when a run starts: a run interrupted by a worker's death is not run
        # again (jobs send e-mails and spend API quota); it ends failed (cluster/reaper.py)
        task_acks_late=False, worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True, broker_connection_timeout=5,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2,
                                   "interval_step": 0.5, "interval_max": 1.0},
        worker_hijack_root_logger=False, worker_redirect_stdouts=False,
        worker_enable_remote_control=False, worker_send_task_events=False,
    )
    return celery


def check_broker(url: str, timeout: float = 5.0) -> None:
    """BrokerUnavailable (one line) unless the broker accepts a connection."""
    from kombu import Connection
    try:
        with Connection(url, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
    except Exception as exc:     # kombu raises transport-specific errors
        reason = str(exc).strip().splitlines()
        raise BrokerUnavailable(f"cannot reach the broker {describe_broker(url)}: "
                         f"{reason[0] if reason else type(exc).__name__}") from None
