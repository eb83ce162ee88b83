"""Channel adapters: the terminal chat, and (to come) Telegram, Bale and the SMS webhook."""
