from tinyforge.cli import main

main()
