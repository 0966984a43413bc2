"""A local HTTP server that answers like the recorded Xinference 4.1.0 server (server.py)."""
