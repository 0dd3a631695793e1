"""SQLAlchemy tables, queries and Alembic migrations."""
