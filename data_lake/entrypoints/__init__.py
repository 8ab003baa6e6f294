"""HTTP app and command line of the data lake."""
