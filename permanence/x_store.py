"""The channel store moved to ``channels/store.py`` (one durable store for every channel, with a
``channel`` column and Alembic migrations). This name stays an alias of that module, so that
older imports (the desk, tests, benchmarks) keep working and see the very same objects."""

import sys

from channels import store as _store

sys.modules[__name__] = _store
