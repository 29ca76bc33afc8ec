"""Sensors: what the daemon evaluates on its own, on a timer.

``freshness`` evaluates the sources' freshness checks, ``ledger`` appends new check evaluations
to the quality ledger, ``slo`` records the data SLO table on ``reports/data_slo``. Each module
builds its sensor; the layer that owns what the sensor watches puts it in its definitions.
"""
