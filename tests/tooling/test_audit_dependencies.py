"""`make audit`: the list of known issues is read strictly, and an audit that cannot reach its
vulnerability service fails, saying why, instead of passing having checked nothing."""

from __future__ import annotations

import pytest

from scripts import audit_dependencies
from tests.running_service import free_port


def test_every_listed_known_issue_says_why_it_cannot_be_fixed() -> None:
    for issue in audit_dependencies.load_known_issues():
        assert issue.why.strip() and issue.environments


def test_a_known_issue_without_its_reason_or_for_no_environment_is_refused(tmp_path) -> None:
    listed = tmp_path / "audit-exceptions.toml"
    listed.write_text(
        '[[issue]]\nid = "PYSEC-1"\npackage = "a"\nenvironments = ["app"]\nwhy = " "\n'
        '[[issue]]\nid = "PYSEC-2"\npackage = "b"\nenvironments = ["elsewhere"]\nwhy = "no fix released"\n'
    )
    with pytest.raises(SystemExit) as refused:
        audit_dependencies.load_known_issues(listed)
    assert "entry 1" in str(refused.value) and "entry 2 (PYSEC-2)" in str(refused.value)


def test_an_unreachable_vulnerability_service_fails_the_audit_clearly(monkeypatch, capsys) -> None:
    closed = f"http://127.0.0.1:{free_port()}/pypi/pip-audit/{{version}}/json"
    monkeypatch.setattr(audit_dependencies, "SERVICE_PROBE", closed)

    assert audit_dependencies.main([]) != 0
    said = capsys.readouterr().err
    assert "cannot reach its vulnerability service" in said and "Nothing was audited" in said
    assert "127.0.0.1" in said


def test_make_test_is_told_plainly_that_nothing_was_audited(monkeypatch, capsys) -> None:
    closed = f"http://127.0.0.1:{free_port()}/pypi/pip-audit/{{version}}/json"
    monkeypatch.setattr(audit_dependencies, "SERVICE_PROBE", closed)

    assert audit_dependencies.main(["--offline-warns"]) == 0
    assert "NOT AUDITED" in capsys.readouterr().err
