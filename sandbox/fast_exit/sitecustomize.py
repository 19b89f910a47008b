"""Imported at the start of every server a ``Stack`` runs (its directory is on their PYTHONPATH).

Once a server has shut down (its atexit handlers, logging's flush included, have run: this one,
registered first, runs last), the objects left are frozen, so the interpreter's final garbage
collection skips them: Rasa, TensorFlow loaded, spent 5 to 15 s on it after SIGTERM, the action
server 2 to 3 s; the operating system frees the memory at once. Nothing is written then: what
the servers store is committed before.
"""

import atexit
import gc

atexit.register(gc.freeze)
