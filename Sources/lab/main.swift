print("lab: subcommands arrive with the Models issue")
