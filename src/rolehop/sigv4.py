"""Public SigV4 interface (DESIGN.md, "Fixed interfaces"); the implementation is rolehop.core.sigv4
and the error, like every AWS-shaped error, lives in rolehop.core.errors."""

from rolehop.core.errors import SignatureError
from rolehop.core.sigv4 import SigV4Scope, verify_request

__all__ = ["SigV4Scope", "SignatureError", "verify_request"]
