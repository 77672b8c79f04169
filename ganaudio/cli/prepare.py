"""ganaudio CLI: prepare commands (registered on ganaudio.cli.main)."""
