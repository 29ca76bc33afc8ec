"""Extraction from live systems (PostgreSQL, JSON HTTP APIs) into the landing zone.

An extraction reads the rows changed since the source's committed watermark (minus its
lookback), up to the end of the run's last day, writes them as files under the landing zone's
``<source>/<day>/`` folders (the day of each row's watermark), and hands bronze the rest: bronze
reads those files like any other delivery. The watermark advances only once bronze has
committed what was read (``Extraction.commit``), so a failed run re-reads the same rows.
"""
