"""Tests of the SMS provider layer."""
