"""What every request passes through, in order:

authenticate      SigV4 and the credential behind the key (long-term: the store, cached;
                  temporary: the sealed session token alone) -> a Caller
call              Caller and Call: who is calling and in what circumstances
registry          OPERATIONS: (service, name) -> handler, filled by @operation
perform           an operation run and recorded: a change and its audit record in one transaction,
                  reads and STS calls recorded in the trail's next batch
trail             this node's hash chain of CloudTrail records: appended in a change's transaction,
                  or batched by a thread of its own
trail_records     CloudTrail's record format for API calls, secrets left out
authorize         the request context and the caller's policies, decided by core.policy
control_policies  the SCPs and RCPs binding an account, root to account
denials           every AccessDenied's explanation (kept in its trail event) and message;
                  identical ones aggregated
denial_windows    which request opened each window of identical denials, in the node's memory
denial_log        AccessDenied log lines, limited per principal, with summaries
mfa_check         one place that accepts or refuses an MFA code (replay guard, throttling)
request_rate      request throttling: token buckets per source address (before authentication) and
                  per principal (after), in this node's memory
throttle          failed-authentication counters per user and per source address; the ceiling on
                  one user's console passwords from every address
runtime           the node's shared state: store, key ring, clock, randomness, caches
"""
