"""Chữ ký số: keys, PAdES signing, appearances and validation."""
