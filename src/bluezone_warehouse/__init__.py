"""Bluezone coverage warehouse."""
