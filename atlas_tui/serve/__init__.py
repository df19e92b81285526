"""`atlas serve`: the REST API over the same service layer as the app and the CLI."""
