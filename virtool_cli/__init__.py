"""Virtool's command-line client: needs Python and `requests` only, never Django (it talks to a server's API)."""
