"""Message catalogs (Persian default, English) and the formatting of values inside messages."""
