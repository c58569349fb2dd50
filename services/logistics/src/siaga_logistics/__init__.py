"""Siaga logistics service."""
