"""Broadcast notices (planned outages first): audience, delivery rows, senders, rate limiting."""
