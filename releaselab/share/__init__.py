"""Sharing results beyond one checkout: the published hive mirror of data/parquet (publish).

Not a dependency of any DVC stage: nothing here changes what the pipeline computes.
"""
