"""Narrow exceptions the library raises; the CLI turns each into one clear line.

Every message should name the file (and line, where there is one) and the problem,
so a user can act on it without a traceback.
"""
from __future__ import annotations


class FingerspellError(Exception):
    """Base class: anything the CLI reports as `error: <message>` with a non-zero exit.

    The message is always one line: control characters that came in with data (a folder
    named with a newline, a label with a carriage return) are shown escaped (`\\n`)."""

    def __init__(self, *args: object) -> None:
        if args and isinstance(args[0], str):
            args = (_one_line(args[0]), *args[1:])
        super().__init__(*args)


def _one_line(message: str) -> str:
    if message.isprintable():
        return message
    return "".join(ch if ch.isprintable() or ch == "\t" else repr(ch)[1:-1] for ch in message)


class DatasetFormatError(FingerspellError):
    """A dataset file is malformed (bad CSV row, bad annotation, unknown layout)."""


class UnknownLabelError(FingerspellError):
    """A label is not in the dataset's class list."""


class DatasetNotFoundError(FingerspellError):
    """No index with that name exists in FINGERSPELL_HOME."""


class DatasetExistsError(FingerspellError):
    """An index with that name exists already (import with another --name)."""


class CorruptImageError(FingerspellError):
    """An image file cannot be decoded."""


class ImageTooLargeError(CorruptImageError):
    """An image's header declares more pixels than fingerspell decodes (checked before decoding)."""


class InvalidNameError(FingerspellError):
    """A dataset name (or another name that becomes a file name) is not allowed."""


class UnsafePathError(FingerspellError):
    """A path taken from data (a label, a file name, a symbolic link) leads outside its root folder."""


class QuerySyntaxError(FingerspellError):
    """A `data query` expression cannot be parsed."""


class ConfigError(FingerspellError):
    """A training option is unknown or has a wrong type."""


class UnknownModelError(FingerspellError):
    """A model name is not in the registry."""


class TrainingError(FingerspellError):
    """Training cannot go on (NaN loss, no samples, ...)."""


class RunNotFoundError(FingerspellError):
    """No run folder with that name or path."""


class BundleError(FingerspellError):
    """A model bundle is missing, incomplete or does not match its manifest."""


class SourceError(FingerspellError):
    """A prediction source (image, folder, video, camera) cannot be opened."""


class ExportError(FingerspellError):
    """An exported model disagrees with PyTorch, or the export itself failed."""


class DisplayError(FingerspellError):
    """No window can be shown (headless OpenCV build, or no display)."""
