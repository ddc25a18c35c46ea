"""gpux conversion bridge (see __main__.py)."""
