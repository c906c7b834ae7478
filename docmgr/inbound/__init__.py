"""Văn bản đến: registration, distribution, handling and the incoming register."""
