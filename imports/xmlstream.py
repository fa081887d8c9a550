"""Safe, streaming XML: defusedxml's parser, read with ``iterparse`` a chunk at a time.

A DTD (and with it every entity declaration: the "billion laughs" and its kin) and
any external entity or reference are refused before anything is expanded or
fetched; malformed XML stops at its line. Each element knows the line it starts on
(``sourceline``), so the importers can say ``FILE:LINE``. ``records`` hands out the
elements at one depth of the tree (Atom's ``entry``, WXR's ``item``, Disqus's
``thread`` and ``post``) and drops each once it has been read, so memory stays flat
whatever the size of the file.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml.ElementTree import DefusedXMLParser, ParseError, iterparse


class ImportFileError(Exception):
    """A file that cannot be imported: ``line`` is where (1-based), ``message`` why."""

    def __init__(self, message: str, *, line: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = max(1, line)


class _LineParser(DefusedXMLParser):
    """defusedxml's parser (DTDs refused too), noting each element's first line."""

    def __init__(self) -> None:
        super().__init__(forbid_dtd=True, forbid_entities=True, forbid_external=True)

    def _start(self, tag, attr_list):
        element = super()._start(tag, attr_list)
        element.sourceline = self.parser.CurrentLineNumber
        return element

    @property
    def line(self) -> int:
        return self.parser.CurrentLineNumber


def _refusal(exc: DefusedXmlException) -> str:
    if isinstance(exc, DTDForbidden):
        return (
            "refused: the file declares a DTD (<!DOCTYPE ...>); exports have none, and "
            "DTDs carry entity bombs and external fetches"
        )
    if isinstance(exc, EntitiesForbidden):
        return f"refused: the file declares the entity {exc.name!r} (entity expansion)"
    return "refused: the file references an external entity (nothing is fetched)"


def records(
    source: Path | BinaryIO, *, depth: int, inner: frozenset[str] = frozenset()
) -> Iterator[tuple[str, object]]:
    """Yield ``("root", element)`` for the document element (its children still
    coming), then ``("record", element)`` for each complete element ``depth`` levels
    below it, dropped after use. Elements one level further down whose tag is in
    ``inner`` come as ``("inner", element)`` as soon as they are complete, and are
    dropped too (WordPress puts every comment of a post inside its ``item``: a post
    with 100,000 comments must not be held whole). Raises ``ImportFileError`` with
    the line."""
    parser = _LineParser()
    stack: list = []
    try:
        for event, element in iterparse(source, events=("start", "end"), parser=parser):
            if event == "start":
                stack.append(element)
                if len(stack) == 1:
                    yield "root", element
                continue
            stack.pop()
            level = len(stack)
            if level == depth:
                yield "record", element
            elif level == depth + 1 and element.tag in inner:
                yield "inner", element
            else:
                continue
            element.clear()
            if stack:
                stack[-1].remove(element)
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else parser.line
        raise ImportFileError(f"malformed XML: {exc}", line=line) from None
    except DefusedXmlException as exc:
        raise ImportFileError(_refusal(exc), line=parser.line) from None


def text(element, path: str, namespaces: dict[str, str] | None = None) -> str:
    """The text of the first ``path`` under ``element`` ("" when missing)."""
    found = element.find(path, namespaces)
    return (found.text or "") if found is not None else ""
