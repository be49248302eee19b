"""The nightly deployment: 02:00 in Shanghai, a state folder, outputs under <root>/<as-of>/."""

from __future__ import annotations


def test_deployment_runs_nightly_at_two_in_shanghai() -> None:
    from flows.schedule import deployment

    built = deployment("/srv/out", "/srv/state", ["u.xlsx"], ["c.csv"], ["m.csv"])
    assert len(built.schedules) == 1
    schedule = built.schedules[0].schedule
    assert schedule.cron == "0 2 * * *" and schedule.timezone == "Asia/Shanghai"
    assert built.parameters["state"] == "/srv/state"  # the scheduled night always has state
    assert built.name == "bidui-nightly-0200"
