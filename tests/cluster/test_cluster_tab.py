"""The UI's Cluster tab (real Chromium): the schedulers with the leader marked, and the workers."""
from __future__ import annotations


def test_the_cluster_tab_shows_the_leader_and_the_workers(server, worker, redis_broker, ui):
    srv = server("--executor", "celery", "--broker", redis_broker)
    worker("worker-ui", "--broker", redis_broker)
    page = ui(srv.url)
    tab = page.open("cluster")
    tab.wait_for_selector("#workers-table tbody tr[data-node]")
    schedulers = tab.locator("#schedulers-table tbody tr[data-node]")
    assert schedulers.count() == 1
    assert "leader" in schedulers.first.inner_text()
    assert "(this one)" in schedulers.first.inner_text()
    workers = tab.locator("#workers-table tbody tr[data-node]")
    assert "worker-ui" in workers.first.inner_text()
    assert "concurrency 2" in workers.first.inner_text()
    assert redis_broker.split("//")[0] in tab.locator("#cluster-summary").inner_text()
    assert page.errors == []
    page.shot("cluster-tab")
