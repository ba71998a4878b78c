"""Bodies under a deadline, in reused threads (executions/deadline.py)."""
from __future__ import annotations

import contextvars
import threading

from bots_scheduler.executions.deadline import BodyThreads, run_with_deadline
from tests.support.waiting import wait_until

MARK: contextvars.ContextVar[str] = contextvars.ContextVar("mark", default="unset")




def test_bodies_one_after_another_share_one_thread_named_after_each_run():
    threads = BodyThreads()
    seen = []

    def body():
        current = threading.current_thread()
        seen.append((current.ident, current.name))
        return len(seen)

    first = run_with_deadline(body, threading.Event(), None, name="job-a", threads=threads)
    assert wait_until(lambda: threads.idle_count() == 1)
    second = run_with_deadline(body, threading.Event(), None, name="job-b", threads=threads)
    assert (first.value, second.value) == (1, 2)
    assert seen[0][0] == seen[1][0]
    assert [name for _ident, name in seen] == ["job-a", "job-b"]
    assert wait_until(lambda: threads.idle_count() == 1)


def test_a_body_starts_with_a_fresh_context_whatever_the_previous_body_set():
    threads = BodyThreads()

    def first():
        MARK.set("left by the first body")
        return MARK.get()

    assert run_with_deadline(first, threading.Event(), None, threads=threads).value == \
        "left by the first body"
    assert wait_until(lambda: threads.idle_count() == 1)
    assert run_with_deadline(MARK.get, threading.Event(), None, threads=threads).value == "unset"


def test_an_abandoned_body_keeps_its_thread_and_the_next_body_gets_another():
    threads = BodyThreads()
    release = threading.Event()
    stuck_in = []

    def stuck():
        stuck_in.append(threading.get_ident())
        release.wait(10)        # ignores the stop signal

    ended = run_with_deadline(stuck, threading.Event(), 0.1, grace=0.2, threads=threads)
    assert ended.timed_out and ended.abandoned
    assert threads.idle_count() == 0
    other = run_with_deadline(threading.get_ident, threading.Event(), None, threads=threads)
    assert other.value != stuck_in[0]
    release.set()               # the abandoned body ends: its thread is idle again
    assert wait_until(lambda: threads.idle_count() == 2)


def test_an_idle_thread_ends_after_idle_for_seconds():
    threads = BodyThreads(idle_for=0.2)
    ran_in = run_with_deadline(threading.current_thread, threading.Event(), None,
                               threads=threads).value
    assert wait_until(lambda: not ran_in.is_alive())
    assert threads.idle_count() == 0
    # a new body after that gets a new thread
    again = run_with_deadline(threading.current_thread, threading.Event(), None,
                              threads=threads).value
    assert again is not ran_in


def test_an_error_of_the_body_is_handed_back_and_the_thread_is_reused():
    threads = BodyThreads()

    def broken():
        raise KeyError("nope")

    ended = run_with_deadline(broken, threading.Event(), None, threads=threads)
    assert isinstance(ended.error, KeyError)
    assert wait_until(lambda: threads.idle_count() == 1)
    assert run_with_deadline(lambda: "fine", threading.Event(), None,
                             threads=threads).value == "fine"
