"""Conversation flows, independent of any transport: events in, replies out."""
