"""The exit codes of every `bootstrap-bot` command."""

EXIT_OK = 0
#: the command ran and refused: bad input, a peer that failed, a render that differs (--check)
EXIT_REFUSED = 1
#: the command line itself is wrong
EXIT_USAGE = 2
