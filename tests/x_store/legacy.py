"""The X store before Alembic, for the migration tests."""

from __future__ import annotations


def legacy_store(url: str, without: tuple[str, ...] = ()) -> None:
    """Create, at ``url``, the X store as it was before Alembic (no version table, no channel
    column: the schema frozen in ``channels/migrations/versions/0001_x_store_baseline.py``),
    as the old ``x_store.Store.create`` made it. ``without``: tables, or ``x_outbox.priority``,
    that an even older store lacked."""
    import importlib.util
    from pathlib import Path

    from sqlalchemy import create_engine, text

    path = (Path(__file__).resolve().parents[2] / "channels" / "migrations" / "versions"
            / "0001_x_store_baseline.py")
    spec = importlib.util.spec_from_file_location("x_store_baseline", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    metadata = module.baseline()
    engine = create_engine(url, future=True)
    try:
        tables = [t for t in metadata.sorted_tables if t.name not in without]
        metadata.create_all(engine, tables=tables)
        if "x_outbox.priority" in without:
            with engine.begin() as connection:
                connection.execute(text("DROP INDEX ix_x_outbox_recipient_state"))
                connection.execute(text("ALTER TABLE x_outbox DROP COLUMN priority"))
    finally:
        engine.dispose()
