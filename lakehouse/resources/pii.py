"""The secret key PII tokens are computed with."""

from __future__ import annotations

import dagster as dg


class PiiTokenizer(dg.ConfigurableResource):
    """Configured with ``dg.EnvVar("LAKEHOUSE_PII_KEY")``: the key never sits in code or config.

    Only the bronze assets of sources with PII columns require this resource, so a lakehouse
    without PII runs without the variable; one with PII fails its first step if it is missing.
    """

    key: str
