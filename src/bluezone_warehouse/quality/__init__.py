"""Data quality: measuring the checks, Great Expectations suites, and their results."""
