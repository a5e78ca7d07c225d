"""The operations rolehop serves: pinned to a checked-in list, each written out where grep finds it,
each in botocore's model, and docs/api-coverage.md current."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import botocore
import botocore.session

from rolehop.services.pipeline.registry import OPERATIONS

ROOT = Path(__file__).parent.parent
PINNED = Path(__file__).parent / "registered_operations.txt"


def test_registered_operations_are_the_pinned_list() -> None:
    """A module dropped from its package's imports (or an operation added) shows up here, not as a
    quietly smaller permission matrix. Update tests/registered_operations.txt with the change."""
    registered = sorted(f"{service}:{name}" for service, name in OPERATIONS)
    assert registered == PINNED.read_text().split()


def test_every_operation_is_in_botocores_model() -> None:
    session = botocore.session.get_session()
    for service, name in OPERATIONS:
        assert name in session.get_service_model(service).operation_names, (service, name)


def test_every_operation_is_a_named_function_in_its_service_package() -> None:
    for (service, name), handler in OPERATIONS.items():
        assert handler.__name__ != "<lambda>", (service, name)
        assert handler.__module__.startswith(f"rolehop.services.{service}."), (
            service,
            name,
            handler.__module__,
        )


def test_grep_finds_every_operation_above_its_handler() -> None:
    for (service, name), handler in OPERATIONS.items():
        source = inspect.getsource(inspect.getmodule(handler))  # type: ignore[arg-type]
        assert f'@operation("{service}", "{name}")\ndef {handler.__name__}(' in source, (service, name)


def test_botocore_is_pinned_to_the_version_the_codecs_and_coverage_were_built_from() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'"botocore=={botocore.__version__}"' in pyproject


def test_api_coverage_document_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "api_coverage.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
