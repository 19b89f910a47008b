"""The message limit of every channel moved to ``permanence/limits.py`` (a shared piece, which
the generic runtime in ``channels/`` uses too). This name stays an alias of that module, so that
older imports (the web chat, the REST door, actions, tests) see the very same objects."""

import sys

from permanence import limits as _limits

sys.modules[__name__] = _limits
