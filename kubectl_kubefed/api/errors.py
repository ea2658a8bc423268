"""Errors that reach users as one line and exit code 2."""


class InputError(Exception):
    """Bad input: a file, a document, a flag. The message is the whole user-facing line."""
