"""Billing: invoices from what shipped, payments against them, and closing paid orders."""
