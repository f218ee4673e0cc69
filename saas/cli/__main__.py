from saas.cli import main

main()
