from envwatch.cli import main

main()
