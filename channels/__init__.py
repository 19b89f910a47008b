"""The durable channel runtime, shared by every channel (X, and later Mastodon, the web chat).

A shared piece: it never imports the desk (``desk/``) nor a channel's platform code
(``connectors/``). ``channels.store`` holds the inbox, outbox, cursors, leases and budgets of
every channel (rows keyed by a ``channel`` column, schema managed by Alembic in
``channels/migrations``); ``channels.outcomes`` the typed outcomes an adapter reports for one
send; ``channels.adapter`` the contract an adapter fulfils; ``channels.runtime`` the inbox
workers feeding Rasa, liveness and replay; ``channels.output`` the output channel that queues a
turn's replies with its inbox item; ``channels.sender`` the sender thread applying outcomes;
``channels.ingress`` a thread serving a channel's pushed events; ``channels.poller`` a source
read through the adapter's ``poll``; ``channels.lease`` and ``channels.doorbell`` the lease loop
and the wake-ups. A channel subclasses them (``connectors/x/``).
"""
