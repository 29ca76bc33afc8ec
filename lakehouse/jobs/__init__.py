"""Jobs that are not materialisations of assets (erasure of a data subject)."""
