"""The `atlas` command: argument parsing, commands, workflows and how results print."""
