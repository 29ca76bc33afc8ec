"""The ``erase_subject`` job: ``lakehouse erase`` from the UI's launchpad.

Its config takes the subject's token, never the value: Dagster keeps a run's config in its run
storage for good, and the value is what an erasure removes. ``lakehouse pii token VALUE`` prints
the token. A token finds the subject in ``pii: tokenize`` columns; a subject in ``pii: hash``
columns is erased with ``lakehouse erase --subject VALUE``, which can compute the hash.
"""

from collections.abc import Sequence

import dagster as dg
from pydantic import Field

from lakehouse.contracts.loader import LoadedContract
from lakehouse.resources import PlatformResources

TOKEN_PATTERN = r"^[0-9a-f]{64}$"


class EraseSubjectConfig(dg.Config):
    token: str = Field(
        pattern=TOKEN_PATTERN,
        description="The subject's token (`lakehouse pii token VALUE`), not the value: run config is stored for good.",
    )
    column: str | None = Field(default=None, description="Search only tokenised columns of this name.")


def erase_subject_job(contracts: Sequence[LoadedContract]) -> dg.JobDefinition:
    loaded = list(contracts)

    @dg.op(
        name="erase",
        required_resource_keys={"lake", "pii", "vault", "warehouse"},
        description="Deletes the subject's vault entries, and its rows where contracts say erasure: hard; "
        "writes the receipt to <lake>/_ops/erasures.",
    )
    def erase_op(context: dg.OpExecutionContext, config: EraseSubjectConfig) -> dg.Output[str]:
        from lakehouse.privacy.erasure import erase, subject_from_token

        subject = subject_from_token(loaded, context.resources.pii.key, config.token, config.column)
        if not subject.values:
            raise dg.Failure(description=f"no source has a pii: tokenize column named {config.column!r}")
        receipt = erase(
            loaded,
            subject,
            lake=context.resources.lake,
            vault=context.resources.vault.vault(),
            warehouse_path=context.resources.warehouse.path,
        )
        for line in receipt.lines():
            context.log.info(line)
        return dg.Output(
            receipt.erasure_id,
            metadata={
                "erasure_id": receipt.erasure_id,
                "subject": receipt.subject,  # a keyed hash, not the token
                "rows_deleted": receipt.rows_deleted,
                "vault_entries_deleted": receipt.vault_entries_deleted,
                "tables": dg.MetadataValue.json({t.table: t.rows_deleted for t in receipt.tables}),
            },
        )

    @dg.job(name="erase_subject", description="Erase one data subject (GDPR art. 17); config: its token.")
    def erase_subject() -> None:
        erase_op()

    return erase_subject


def erasure_definitions(contracts: Sequence[LoadedContract], resources: PlatformResources) -> dg.Definitions:
    return dg.Definitions(
        jobs=[erase_subject_job(contracts)],
        resources=resources.pick("lake", "pii", "vault", "warehouse"),
    )
