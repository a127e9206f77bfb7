"""Settings and domain types shared by every capability. No I/O beyond reading the environment."""
