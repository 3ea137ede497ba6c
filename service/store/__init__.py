"""What the service keeps: SQLAlchemy models and data access, free of HTTP code."""
