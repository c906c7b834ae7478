"""Operating the archive: backup and restore, and how faults reach the people using it."""
