"""The token vault's location and key (``LAKEHOUSE_VAULT_KEY``, apart from the tokenisation key)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    from lakehouse.privacy.vault import TokenVault


class VaultResource(dg.ConfigurableResource):
    """Configured with ``dg.EnvVar("LAKEHOUSE_VAULT_KEY")``. Only the bronze assets of sources with
    ``pii: tokenize`` columns, and erasure, require it."""

    root: str
    key: str

    def vault(self) -> TokenVault:
        from lakehouse.privacy.vault import TokenVault, vault_location

        return TokenVault(vault_location(self.root), self.key)
