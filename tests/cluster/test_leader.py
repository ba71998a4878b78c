"""Several ``run`` instances on one PostgreSQL or MariaDB datastore: exactly one leader fires the
jobs, the others serve the API, and another takes over when the leader dies.

Each instance gets its own BOTS_SCHEDULER_HOSTNAME, as if on its own machine: a dead leader is
then noticed only by its lease running out (not by looking for its process)."""
from __future__ import annotations

import signal
import time
from datetime import datetime, timedelta

from tests.cluster.conftest import cluster, executions_of, ledger_lines, wait_until

HELLO = "bots_scheduler.jobs.builtin.sample.HelloJob"
FINAL = ("succeeded", "failed", "timeout", "stopped", "scheduled error")


def start_schedulers(server, database, count, *args):
    return [server(*database, *args, env={"BOTS_SCHEDULER_HOSTNAME": f"sched-{index}"})
            for index in range(1, count + 1)]


def leader_of(nodes):
    """The node that holds the lease, as the live nodes see it (None while nobody does)."""
    views = {}
    for node in nodes:
        try:
            views[node] = cluster(node)
        except Exception:     # a node being killed
            continue
    holders = {view["leader"] for view in views.values()}
    for node, view in views.items():
        if view["this"] in holders and len(holders) == 1:
            return node
    return None


def seconds(execution) -> datetime:
    return datetime.fromisoformat(execution["scheduled_time"])


def test_three_schedulers_every_second_leader_killed_twice_each_firing_runs_once(
        server, postgresql):
    nodes = start_schedulers(server, postgresql, 3, "--no-job-coalesce")
    leader = wait_until(lambda: leader_of(nodes), 20, what="a leader")
    views = [cluster(node) for node in nodes]
    assert all(len([s for s in v["schedulers"] if s["leader"]]) == 1 for v in views)
    follower = next(node for node in nodes if node is not leader)
    job_id = follower.add_job(HELLO, "every second", ["x"], second="*", minute="*")
    wait_until(lambda: executions_of(follower, job_id), 6, what="the first firing")

    takeovers = []
    alive = list(nodes)
    for _ in range(2):
        time.sleep(6)
        leader = wait_until(lambda: leader_of(alive), 20, what="the leader")
        alive.remove(leader)
        leader.kill()
        killed_at = time.monotonic()
        wait_until(lambda: leader_of(alive), 20, interval=0.2, what="a new leader")
        takeovers.append(time.monotonic() - killed_at)
    time.sleep(6)
    survivor = alive[0]
    assert survivor.api("PATCH", f"/api/v1/jobs/{job_id}").status_code == 200
    executions = wait_until(
        lambda: (lambda es: es if all(e["state"] in FINAL for e in es) else None)(
            executions_of(survivor, job_id)), 40, what="the killed leaders' runs to end")

    assert all(t < 15 for t in takeovers), takeovers
    times = sorted(seconds(e) for e in executions)
    assert len(times) == len(set(times)), "a firing ran twice"
    expected = [times[0] + timedelta(seconds=n)
                for n in range(int((times[-1] - times[0]).total_seconds()) + 1)]
    assert times == expected, "a firing was lost"
    assert len(times) >= 30
    states = {e["state"] for e in executions}
    assert states <= {"succeeded", "failed"}
    for execution in executions:
        if execution["state"] == "failed":    # in flight on a killed leader
            assert execution["hostname"] != survivor.env["BOTS_SCHEDULER_HOSTNAME"]
            assert "stopped unexpectedly" in execution["description"]


def test_jobs_changed_through_a_follower_are_honoured_by_the_leader_within_seconds(
        server, mysql):
    nodes = start_schedulers(server, mysql, 2)
    leader = wait_until(lambda: leader_of(nodes), 20, what="a leader")
    follower = next(node for node in nodes if node is not leader)

    added = time.monotonic()
    job_id = follower.add_job(HELLO, "every second", ["x"], second="*", minute="*")
    wait_until(lambda: executions_of(leader, job_id), 6, what="the first firing")
    assert time.monotonic() - added < 6

    assert follower.api("PATCH", f"/api/v1/jobs/{job_id}").status_code == 200
    time.sleep(4)
    paused = len(executions_of(leader, job_id))
    time.sleep(4)
    assert len(executions_of(leader, job_id)) == paused

    assert follower.api("OPTIONS", f"/api/v1/jobs/{job_id}").status_code == 200
    wait_until(lambda: len(executions_of(leader, job_id)) > paused, 6, what="firing again")

    assert follower.api("DELETE", f"/api/v1/jobs/{job_id}").status_code == 200
    time.sleep(4)
    deleted = len(executions_of(leader, job_id))
    time.sleep(3)
    assert len(executions_of(leader, job_id)) == deleted
    leader_host = leader.env["BOTS_SCHEDULER_HOSTNAME"]
    assert {e["hostname"] for e in executions_of(follower, job_id)} == {leader_host}


def test_a_new_instance_leaves_live_runs_alone_and_a_stopped_leader_hands_over_at_once(
        server, postgresql, jobs_dir, ledger):
    first = start_schedulers(server, postgresql, 1)[0]
    job_id = first.add_job("probe.Probe", "long", [str(ledger), "20"], minute="0", hour="0")
    eid = first.post(f"/api/v1/executions/{job_id}").json()["execution_id"]
    wait_until(lambda: first.get(f"/api/v1/executions/{eid}").json()["state"] == "running", 20,
               what="the run to start")

    second = server(*postgresql, env={"BOTS_SCHEDULER_HOSTNAME": "sched-2"})
    assert second.get(f"/api/v1/executions/{eid}").json()["state"] == "running"
    assert leader_of([first, second]) is first

    # a run-now through the follower runs there
    quick = second.add_job("probe.Probe", "quick", [str(ledger), "0"], minute="0", hour="0")
    other = second.post(f"/api/v1/executions/{quick}").json()["execution_id"]
    assert second.wait_execution(other)["hostname"] == "sched-2"

    first.signal(signal.SIGTERM)
    stopped_at = time.monotonic()
    wait_until(lambda: leader_of([second]), 10, interval=0.2, what="the follower to lead")
    assert time.monotonic() - stopped_at < 5
    assert first.wait(30) == 0
    # a cooperative job asked to stop ends its own way, not failed by the other instance
    assert second.get(f"/api/v1/executions/{eid}").json()["state"] in ("stopped", "succeeded")
    assert sorted(line[0] for line in ledger_lines(ledger)) == sorted([eid, other])
