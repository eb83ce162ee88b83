"""The channel layer: messengers and SMS gateways, their clients, limiter and error rule."""
