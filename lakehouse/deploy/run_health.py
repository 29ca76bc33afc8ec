"""Runs that died: a run marked STARTED whose process is gone, failed through the instance.

Dagster's run monitoring (``run_monitoring`` in ``dagster.yaml``) fails such runs only if the
run launcher can check a run's worker, and the default run launcher cannot: a SIGKILLed run
(out of memory, a machine restarted) stays STARTED for ever, holding its pool slots and its
concurrency limits. Every run records its process id in an engine event ("Started process for
run (pid: N)", or "Executing steps in process" when it runs in the launching process), so on
the machine that ran it, the process can be looked up. ``LakehouseRunLauncher`` is the default
launcher with that check (the daemon then fails dead runs on its own); ``lakehouse runs heal``
does the same once, for an instance without a daemon. A run started on another machine (its
``lakehouse/run_host`` tag names it) is never judged from this one.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass

import dagster as dg
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, LaunchRunContext, WorkerStatus
from dagster._core.storage.tags import GRPC_INFO_TAG

HOST_TAG = "lakehouse/run_host"


def run_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The process that holds the run: the first engine event naming a pid (its run worker)."""
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        event = record.dagster_event
        metadata = event.engine_event_data.metadata if event and event.engine_event_data else {}
        pid = metadata.get("pid")
        if pid is not None:
            try:
                return int(str(pid.value))
            except ValueError:
                return None
    return None


def process_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process here (a zombie, killed and not yet reaped, is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True  # no /proc: trust kill(0)


@dataclass(frozen=True)
class Verdict:
    run_id: str
    pid: int | None
    dead: bool
    reason: str


def judge(instance: dg.DagsterInstance, run: dg.DagsterRun, host: str | None = None) -> Verdict:
    """Whether a STARTED run's process is gone, judged on this machine only."""
    here = host or socket.gethostname()
    ran_on = run.tags.get(HOST_TAG)
    if ran_on is not None and ran_on != here:
        return Verdict(run.run_id, None, False, f"ran on {ran_on}, not judged from {here}")
    pid = run_pid(instance, run.run_id)
    if pid is None:
        return Verdict(run.run_id, None, False, "no process recorded yet")
    if process_alive(pid):
        return Verdict(run.run_id, pid, False, f"process {pid} is running")
    return Verdict(
        run.run_id, pid, True, f"its process {pid} on {here} is gone (killed, or its machine restarted)"
    )


def heal(instance: dg.DagsterInstance, *, dry_run: bool = False) -> list[Verdict]:
    """Judge every STARTED run; mark those whose process is gone as failed (unless ``dry_run``)."""
    verdicts = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        verdict = judge(instance, record.dagster_run)
        verdicts.append(verdict)
        if verdict.dead and not dry_run:
            instance.report_run_failed(
                record.dagster_run, f"Marked failed by `lakehouse runs heal`: {verdict.reason}."
            )
    return verdicts


class LakehouseRunLauncher(DefaultRunLauncher):
    """Dagster's default run launcher, plus the worker check run monitoring needs: a run is
    tagged with the machine it starts on, and its worker is FAILED once its process is gone."""

    def launch_run(self, context: LaunchRunContext) -> None:
        """Launch as the default launcher does, then record where the run's process lives: this
        machine when the code server is local, else the code server's host (never judged here)."""
        super().launch_run(context)
        run = self._instance.get_run_by_id(context.dagster_run.run_id)
        grpc = json.loads(run.tags.get(GRPC_INFO_TAG, "{}")) if run else {}
        server = grpc.get("host") or "localhost"  # a socket (no host) is local too
        local = server in ("localhost", "127.0.0.1", "::1", socket.gethostname())
        self._instance.add_run_tags(
            context.dagster_run.run_id, {HOST_TAG: socket.gethostname() if local else server}
        )

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        if HOST_TAG not in run.tags:  # not launched by a launcher (the demo, a CLI run): not ours
            return CheckRunHealthResult(WorkerStatus.RUNNING, "not launched by this launcher")
        verdict = judge(self._instance, run)
        return CheckRunHealthResult(
            WorkerStatus.FAILED if verdict.dead else WorkerStatus.RUNNING, verdict.reason
        )
