"""End-to-end fixtures: the running service (tests/running_service.py)."""

from tests.running_service import conversation, service  # noqa: F401
