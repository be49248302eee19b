"""The scheduled deployment: every night at 02:00 Asia/Shanghai, outputs in <root>/<as-of>/.

Run on the server machine (see the README runbook):
    PREFECT_API_URL=http://127.0.0.1:4200/api python -m flows.schedule \\
        --root /srv/bidui/out --state /srv/bidui/state \\
        --union /srv/exchange/union_roll.xlsx --civil /srv/exchange/civil_exchange.csv \\
        [--members /srv/exchange/members.csv]
This serves the deployment (a long-running process that starts each night's run); the Prefect
server must be a real one (`prefect server start`): the temporary server refuses schedules.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from flows.settings import apply_offline_settings

apply_offline_settings()

from prefect import flow  # noqa: E402
from prefect.schedules import Cron  # noqa: E402
from prefect.states import Failed  # noqa: E402

from flows.nightly import nightly  # noqa: E402
from pipeline.config import today_in  # noqa: E402

CRON = "0 2 * * *"
TIMEZONE = "Asia/Shanghai"
DEPLOYMENT = "bidui-nightly-0200"


@flow(name="bidui-scheduled-night", validate_parameters=False)
def scheduled_night(root: str, state: str, union: list[str], civil: list[str],
                    members: list[str] | None = None, config: str | None = None):
    """One scheduled night: as-of is today in Shanghai; outputs go to <root>/<as-of>/."""
    as_of = today_in(TIMEZONE)
    state_run = nightly(union=[Path(p) for p in union], civil=[Path(p) for p in civil],
                        members=[Path(p) for p in members or []],
                        out=Path(root) / as_of.isoformat(), as_of=as_of,
                        config_path=Path(config) if config else None, state_dir=Path(state),
                        return_state=True)
    if not state_run.is_completed():
        return Failed(message=state_run.message)
    return state_run


def deployment(root: str, state: str, union: list[str], civil: list[str],
               members: list[str] | None = None, config: str | None = None):
    """The deployment object (also what the tests inspect)."""
    return scheduled_night.to_deployment(
        name=DEPLOYMENT, schedules=[Cron(CRON, timezone=TIMEZONE)],
        parameters={"root": root, "state": state, "union": union, "civil": civil,
                    "members": members or [], "config": config},
        description="Nightly cross-check of the hardship roll against civil affairs.",
        tags=["bidui"])


def main(argv: list[str] | None = None) -> None:
    from prefect import serve

    parser = argparse.ArgumentParser(prog="python -m flows.schedule")
    parser.add_argument("--root", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--union", nargs="+", required=True)
    parser.add_argument("--civil", nargs="+", required=True)
    parser.add_argument("--members", nargs="+", default=[])
    parser.add_argument("--config", default=None)
    args = parser.parse_args(argv)
    serve(deployment(args.root, args.state, args.union, args.civil, args.members, args.config))


if __name__ == "__main__":
    main()
