"""Personal data: how long it is kept (``retention``) and where it flows (``lineage``)."""
