"""Dataset formats: one module per layout people download ASL data in, each registered with
`@register_format(name)` and able to `detect(path)` itself for `--format auto`.

Importing this package registers every built-in format.
"""
from fingerspell.data.formats.base import (
    Format,
    FormatData,
    GroupNamer,
    canonical_class,
    class_sort_key,
    detect_format,
    get_format,
    list_formats,
    register_format,
    sort_classes,
)

# Imported for their registration side effect (order does not matter: `priority` does).
from fingerspell.data.formats import coco, corners_csv, folders, landmarks, sign_mnist, yolo  # noqa: E402,F401

__all__ = [
    "Format", "FormatData", "GroupNamer", "canonical_class", "class_sort_key", "detect_format",
    "get_format", "list_formats", "register_format", "sort_classes",
]
