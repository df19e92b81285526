"""Business rules over a repository: inventory, stocktake, scanning, trends, replay, files."""
