"""Entry points of data_processing: the HTTP app and the CLI."""
