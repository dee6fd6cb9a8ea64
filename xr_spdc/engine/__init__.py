"""The engine: the one method registry, and blocks run in process, on loky's pool or on dask.

- :mod:`.methods`: every family's methods (block function, outputs, block size, cost);
- :mod:`.fanout`: blocks in this process or on a process pool, with progress and errors.

Nothing here imports xarray (an import-linter contract in pyproject.toml).
"""
