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
        context.configure(
            connection=connection, target_metadata=Base.metadata, render_as_batch=True, render_item=render_item
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
