from trilateral.cli import main

main()
