"""Storage: the only package that imports SQLAlchemy and Alembic.

Importing any part of it registers every table on `schema.metadata` (the console's tables live in
their own module), so that metadata, migrations and `reset` always agree.
"""

from rolehop.store import console_store as console_store
