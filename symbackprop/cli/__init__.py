"""The command line: thin commands that parse options, call the API and write files.

``main`` is the click group (``symbackprop``); each subcommand lives in its own module.
"""
from .main import main

__all__ = ["main"]
