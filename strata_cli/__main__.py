from strata_cli.main import app

app()
