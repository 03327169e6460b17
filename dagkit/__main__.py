from dagkit.cli import run

run()
