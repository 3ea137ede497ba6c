"""Alembic migrations of the service database; applied by `stagecheck db upgrade`."""
