"""Customers: their profiles, credit limits and the exposure placement decides on."""
