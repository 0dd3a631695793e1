"""web edge."""
