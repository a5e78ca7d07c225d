"""Every AWS-shaped error is a class in rolehop.core.errors, named after its code; nothing builds
one from a bare code string."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from rolehop.core import errors
from rolehop.core.errors import AwsError
from rolehop.sigv4 import SignatureError

SRC = Path(__file__).parent.parent / "src" / "rolehop"
ERROR_BASES = {
    name for name, value in vars(errors).items() if inspect.isclass(value) and issubclass(value, AwsError)
}


def test_no_error_class_is_defined_outside_core_errors() -> None:
    found = []
    for path in SRC.rglob("*.py"):
        if path == SRC / "core" / "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
                if bases & ERROR_BASES:
                    found.append(f"{path.relative_to(SRC)}: class {node.name}")
    assert not found, found


def test_each_error_class_is_named_after_its_code() -> None:
    for name in ERROR_BASES - {"AwsError", "ClientError", "SignatureError", "OrganizationsAccessDenied"}:
        cls = getattr(errors, name)
        assert name in (cls.code, cls.code.removesuffix("Exception")), (name, cls.code)


def test_sigv4_keeps_its_fixed_interface() -> None:
    assert SignatureError is errors.SignatureError
    assert SignatureError("IncompleteSignature", "x").status == 400
    assert SignatureError("SignatureDoesNotMatch", "x").status == 403
