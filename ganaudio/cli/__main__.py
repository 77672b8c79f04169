"""``python -m ganaudio.cli`` (and ``torchrun -m ganaudio.cli``) run the command line."""

from ganaudio.cli import main

main()
