"""Public SigV4 interface (DESIGN.md, "Fixed interfaces"); the implementation is rolehop.core.sigv4."""

from rolehop.core.sigv4 import SignatureError, SigV4Scope, verify_request

__all__ = ["SigV4Scope", "SignatureError", "verify_request"]
