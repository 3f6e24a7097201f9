"""Imports every domain's models, so that metadata and migrations see all tables."""


def import_all_models() -> None:
    import bot.audit.models  # noqa: F401
    import bot.conversation.models  # noqa: F401
    import bot.handoff.models  # noqa: F401
    import bot.moderation.models  # noqa: F401
    import bot.staff.models  # noqa: F401
