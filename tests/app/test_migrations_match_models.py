"""The migrations build exactly the schema the models declare: autogenerate would write nothing."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.database import Base, session_factory
from bot.models import import_all_models


def test_alembic_autogenerate_finds_no_difference_between_the_migrations_and_the_models(database_url: str) -> None:
    import_all_models()
    engine = session_factory(database_url).kw["bind"]
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
