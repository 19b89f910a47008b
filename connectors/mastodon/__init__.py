"""The Mastodon channel (issue #13, item 6), platform side: ``config`` (settings from the
environment), ``payloads`` (notifications and statuses into inbound events), ``render`` (a
turn as statuses), ``client`` (Mastodon.py, with the last answer's headers), ``send`` (one
direct status, its answer as a typed outcome), ``invitation`` (the one public invitation),
``stream`` (the user stream, reconnecting) and ``adapter`` (``MastodonAdapter``). The wiring
to the durable runtime (an ``InputChannel``, the inbox workers, the sender) is phase 2."""
