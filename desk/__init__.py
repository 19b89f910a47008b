"""The lawyer's desk: cases handed over by the assistant, lawyers' accounts, audit, JSON API.

Served by the Rasa server under ``/desk`` (:class:`desk.channel.DeskInput`), on the project's
database (``permanence.settings.database_url()``), schema managed by Alembic
(``desk/migrations``, :func:`desk.db.upgrade_to_head`).
"""
