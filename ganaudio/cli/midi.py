"""ganaudio CLI: midi commands (registered on ganaudio.cli.main)."""
