"""Test doubles for the messenger and SMS services the bots talk to."""
