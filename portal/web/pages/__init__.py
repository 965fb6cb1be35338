"""Citizen pages, one module per area."""
