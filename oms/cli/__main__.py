"""`python -m oms.cli`: the `oms` command."""
from .main import main

main()
