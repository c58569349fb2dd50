"""Siaga notifications service."""
