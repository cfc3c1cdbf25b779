"""The admin's own date and time formats (FORMAT_MODULE_PATH): one way of writing a
moment everywhere, the same as core.display's ("30 Nov 2026 14:05")."""
