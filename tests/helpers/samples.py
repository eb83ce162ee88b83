"""Sample uploads: bytes that start as a JPEG does (the desk checks the magic number)."""

METER_PHOTO = b"\xff\xd8\xff\xe0" + b"meter photo" * 50  # sent in the dialogs
SHELL_METER_PHOTO = b"\xff\xd8\xff\xe0" + b"meter digits" * 100  # sent in the terminal chat
MESSENGER_METER_PHOTO = b"\xff\xd8\xff\xe0" + b"meter digits" * 200  # sent in Telegram and Bale
