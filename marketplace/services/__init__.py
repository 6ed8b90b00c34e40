"""Every write in the marketplace goes through these modules."""
