from dagkit.cli import main

main()
