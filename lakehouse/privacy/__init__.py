"""Personal data: the token vault, erasure and its receipts (``vault``, ``erasure``), how long it
is kept (``retention``) and where it flows (``lineage``)."""
