"""The demo: sample data for two sources, then every layer materialised over a range."""
