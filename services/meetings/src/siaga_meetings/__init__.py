"""Siaga meetings service."""
