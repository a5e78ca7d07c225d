"""Storage: the only package that imports SQLAlchemy and Alembic.

Importing any part of it registers every table on `schema.metadata` (the console's tables and the
store's version live in their own modules), so that metadata, migrations and `reset` always agree.
versions.py: the store-wide version every decision-changing write bumps, and the watcher that tells
a node's caches about other nodes' writes within a second.
"""

from rolehop.store import console_store as console_store
from rolehop.store import versions as versions
