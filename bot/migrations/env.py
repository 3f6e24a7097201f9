"""Alembic environment: migrates the database named by BOT_DATABASE_URL (or the one passed in)."""

from alembic import context

from bot.database import Base, UTCDateTime, make_engine
from bot.models import import_all_models
from bot.settings import get_settings

import_all_models()
config = context.config
url = config.attributes.get("database_url") or get_settings().database_url


def render_item(type_, obj, autogen_context):
    """Migrations name plain SQLAlchemy types, so they never import the app."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline() -> None:
    context.configure(
        url=url, target_metadata=Base.metadata, render_as_batch=True, literal_binds=True, render_item=render_item
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch migration rebuilds a table by copying it, and SQLite refuses to drop a table that
            # other rows refer to while foreign keys are enforced: they are checked once, at the end.
            # On the driver's connection: SQLite ignores this pragma inside a transaction.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection, target_metadata=Base.metadata, render_as_batch=True, render_item=render_item
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            driver = connection.connection.driver_connection
            broken = driver.execute("PRAGMA foreign_key_check").fetchall()
            driver.execute("PRAGMA foreign_keys=ON")
            if broken:
                raise RuntimeError(f"the migration left rows whose foreign keys point nowhere: {broken[:5]}")
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
