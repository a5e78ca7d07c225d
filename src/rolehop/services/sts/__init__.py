"""STS operations: assume_role (AssumeRole), session_token (GetSessionToken), federation_token
(GetFederationToken), caller_identity
(GetCallerIdentity, GetAccessKeyInfo), authorization_messages (DecodeAuthorizationMessage); and
`credentials`, which every issuer of temporary credentials uses (the console's too), and
`assumable_roles`, rolehop's "which roles may I assume" (beyond AWS).

Importing the package registers every STS operation.
"""

from rolehop.services.sts import (
    assume_role,
    authorization_messages,
    caller_identity,
    federation_token,
    session_token,
)

__all__ = ("assume_role", "authorization_messages", "caller_identity", "federation_token", "session_token")
