"""Messages the desk sends to subscribers outside the chat: SMS now, more channels later."""
