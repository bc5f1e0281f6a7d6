"""The one table from services' domain exceptions to problems (server.problems)."""

from __future__ import annotations

from server.problems import DOMAIN_PROBLEMS, MESSAGES
from server.services import errors


def _subclasses(cls: type) -> set[type]:
    out = set(cls.__subclasses__())
    for sub in list(out):
        out |= _subclasses(sub)
    return out


def test_every_domain_exception_has_a_problem_with_its_code_and_status():
    assert _subclasses(errors.DomainError) <= set(DOMAIN_PROBLEMS)
    for exc, problem in DOMAIN_PROBLEMS.items():
        assert problem.code in MESSAGES, exc
        assert problem.status == MESSAGES[problem.code][0], exc


def test_retry_after_is_chosen_in_the_table():
    retry = {exc: p.headers.get("Retry-After") for exc, p in DOMAIN_PROBLEMS.items()}
    assert retry[errors.UploadBusy] == "1"
    assert retry[errors.StorageFull] == "600"
    assert retry[errors.RateLimited] == "900"
