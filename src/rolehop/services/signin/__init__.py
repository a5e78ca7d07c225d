"""The console's sign-in flows, as services (the pages are rolehop.console's; every decision is here,
through the same operations and policy engine as the API):

    sessions       console sessions on the server; a page's Call is built like an API request's
    sign_in        account, user name and password, then the MFA code, then a new password if due
    mfa_enrolment  Virtual MFA device -> QR code -> two successive codes
    switch_role    Switch Role, Role History, Switch back
    federation     the sign-in federation endpoint (getSigninToken, login)
    trail          their CloudTrail records (signin.amazonaws.com: ConsoleLogin, CheckMfa,
                   SwitchRole, GetSigninToken, ConsoleLogout), next to pipeline.trail_records' API ones
"""
