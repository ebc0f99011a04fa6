"""Analyses built on profiles (and raw data where it is small): drift, validation."""
