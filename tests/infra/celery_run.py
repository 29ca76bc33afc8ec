"""One run of the lakehouse's asset job, orchestrated in this process, its steps on Celery.

``python -m tests.infra.celery_run <start> <end> <tags json> <asset keys...>``: a launched-style
run (``execute_job`` of a reconstructable job) so the steps reach the workers; ``materialize``
and ``execute_in_process`` would run them in process whatever the executor. Prints the run id.
"""

from __future__ import annotations

import json
import sys

import dagster as dg


def lakehouse_job() -> dg.JobDefinition:
    """The code location's assets as a job (the workers rebuild it from this pointer; Dagster's
    implicit asset job cannot be reconstructed by name)."""
    from lakehouse.definitions import defs

    job = dg.define_asset_job("lakehouse_assets", selection=dg.AssetSelection.all())
    return dg.Definitions.merge(defs(), dg.Definitions(jobs=[job])).resolve_job_def("lakehouse_assets")


def main() -> None:
    start, end, tags, *keys = sys.argv[1:]
    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(
            dg.reconstructable(lakehouse_job),
            instance=instance,
            tags={
                **json.loads(tags),
                "dagster/asset_partition_range_start": start,
                "dagster/asset_partition_range_end": end,
            },
            asset_selection=[dg.AssetKey.from_user_string(k) for k in keys],
        )
        print(result.run_id)
        sys.exit(0 if result.success else 1)


if __name__ == "__main__":
    main()
