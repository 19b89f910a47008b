"""The channels' stores, opened outside the Rasa server (``python -m desk.cli purge``) so that
retention and erasure reach them too: the channel store (X, Mastodon…), the web-chat links of X
conversations (``permanence/continue_store.py``) and the web chat's kept messages, resume links
and notice addresses (``channels/webchat_store.py``).

The desk reaches them only through this module and ``permanence/erasure.py``'s registry: it
never imports a channel. Inside the Rasa server each channel registers its own store.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from channels import webchat_store
from channels.store import Store
from channels.webchat_store import WebchatStore
from permanence import continue_store
from permanence import erasure as everywhere
from permanence.continue_store import ContinueStore


@contextmanager
def registered() -> Iterator[None]:
    """Every channel store registered with the erasure registry for the block, then closed."""
    links = ContinueStore.create()
    web = WebchatStore.create()
    try:
        with Store.create() as store:
            everywhere.register(everywhere.X_STORE, store.erase_conversation, prune=store.prune)
            everywhere.register(continue_store.ERASURE_NAME, links.erase_conversation,
                                prune=links.prune)
            everywhere.register(webchat_store.ERASURE_NAME, web.erase_conversation,
                                prune=web.prune)
            try:
                yield
            finally:
                everywhere.unregister(everywhere.X_STORE)
                everywhere.unregister(continue_store.ERASURE_NAME)
                everywhere.unregister(webchat_store.ERASURE_NAME)
    finally:
        links.close()
        web.close()
