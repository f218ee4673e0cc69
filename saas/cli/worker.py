"""`chamyeo worker`: an RQ worker for the platform's queues."""

from __future__ import annotations

import click

from saas.queue import QUEUE_NAMES


@click.command()
@click.option(
    "--queue",
    "queue_names",
    multiple=True,
    type=click.Choice(QUEUE_NAMES),
    help="Queues to serve (default: all).",
)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker(queue_names: tuple[str, ...], burst: bool) -> None:
    """Run jobs: provisioning, migrations, billing."""
    from rq import Worker

    from provisioning.jobs import preload_for_forked_jobs
    from saas.cli.context import attached_settings
    from saas.queue import Queues

    preload_for_forked_jobs()  # once here, not in every forked job
    with attached_settings(redis=True) as settings:
        queues = Queues()
        queues.configure(settings)
        names = queue_names or QUEUE_NAMES
        Worker([queues.get(name) for name in names], connection=queues.connection).work(
            burst=burst, with_scheduler=False, logging_level="WARNING"
        )
