from rolehop.cli.main import main

main()
