import pytest

from safeguarding.assessment import Assessor
from safeguarding.reader import MessageReader


@pytest.fixture(scope="session")
def reader() -> MessageReader:
    return MessageReader()


@pytest.fixture(scope="session")
def assessor(reader: MessageReader) -> Assessor:
    return Assessor(reader.lexicon)
