import pytest

from safeguarding.assessment import Assessor
from safeguarding.reader import MessageReader
from safeguarding.risk_model import RiskReader, load_risk_reader


@pytest.fixture(scope="session")
def reader() -> MessageReader:
    return MessageReader()


@pytest.fixture(scope="session")
def risk_reader() -> RiskReader:
    return load_risk_reader()


@pytest.fixture(scope="session")
def assessor(reader: MessageReader, risk_reader: RiskReader) -> Assessor:
    """The assessment as it runs in the action server and the safety net: the lexicon and the risk model."""
    return Assessor(reader.lexicon, risk_reader=risk_reader)


@pytest.fixture(scope="session")
def lexicon_assessor(reader: MessageReader) -> Assessor:
    return Assessor(reader.lexicon)
