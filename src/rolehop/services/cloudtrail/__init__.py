"""CloudTrail operations: the account's event history, read from the audit trail.

    lookup_events   LookupEvents (one lookup attribute, a time range, newest first, paged by an
                    opaque NextToken), and `lookup`, the same query for the console's Event history
                    page, with the management account's opt-in view of the whole organization

The records themselves are written on every call's way through pipeline.perform (pipeline.trail
keeps the node's hash chain, pipeline.trail_records builds CloudTrail's record format); storage is
ports.trail.

Importing the package registers every CloudTrail operation.
"""

from rolehop.services.cloudtrail import lookup_events

__all__ = ("lookup_events",)
