"""Provider icons: the SVG file a plugin ships, found, read and checked once when it loads.

The contract (``IntegrationProvider.icon``): a path relative to the directory
of the module that describes the provider (a plugin package's ``__init__.py``
sits in its package directory, so ``icon="icon.svg"`` names the file beside
it); for a user's TOML provider file, relative to that file's directory. An
``http(s)://`` URL is accepted and never fetched (privacy, offline use): the
settings page shows the provider's initial instead. An empty value means no
icon.

:func:`resolve` refuses, with :class:`IconRefused` saying why, an icon the
server could not safely serve: a path that is absolute or leaves the plugin's
directory (``..``, a symlink out), a missing file, a file over
:data:`MAX_BYTES`, and a file that is not a plain SVG image (see
:func:`check_svg`). The registry reports a refusal as a load problem of the
plugin, and the provider still loads, shown with its initial.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from types import ModuleType
from typing import NoReturn

__all__ = [
    "MAX_BYTES",
    "MEDIA_TYPE",
    "Icon",
    "IconRefused",
    "check_svg",
    "is_remote",
    "plugin_dir",
    "resolve",
]

#: The largest icon file served (64 KiB): an icon is small, a big file is a mistake.
MAX_BYTES = 64 * 1024
#: The content type the server serves an icon with.
MEDIA_TYPE = "image/svg+xml"

_SVG_NS = "http://www.w3.org/2000/svg"
_XHTML_NS = "http://www.w3.org/1999/xhtml"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
#: Elements that run code or embed another document.
_FORBIDDEN = {"script": "a <script> element", "foreignobject": "a <foreignObject> element"}
#: ``url(...)`` naming anything but a fragment of this document, and CSS imports.
_EXTERNAL_CSS = re.compile(r"url\s*\(\s*(?!['\"]?\s*#)|@import", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")
#: The module that defines ``register_provider``'s wrapper: it says nothing of the provider.
_DIRECT_REGISTRATION = "navi_integrations.plugins._loading"


class IconRefused(ValueError):
    """An icon the server will not serve; ``reason`` says why and what to do."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Icon:
    """A checked SVG icon: its bytes, where it was read from, and a digest of the bytes."""

    data: bytes = field(repr=False)
    path: Path

    @property
    def digest(self) -> str:
        """The first 32 hex digits of the SHA-256 of the bytes (for ETags and URLs)."""
        import hashlib

        return hashlib.sha256(self.data).hexdigest()[:32]


def is_remote(icon: str) -> bool:
    """Whether ``icon`` is an http(s) URL (accepted, never fetched)."""
    return icon[:8].lower().startswith(("http://", "https://"))


def plugin_dir(plugin: object) -> Path | None:
    """The directory of the module that defines ``plugin`` (a module, class or instance).

    None when there is none: a module without a file, or a provider given to
    ``register_provider`` (its wrapper is the core's, not the provider's).
    """
    if isinstance(plugin, ModuleType):
        module: ModuleType | None = plugin
    else:
        name = plugin.__module__ if isinstance(plugin, type) else type(plugin).__module__
        module = sys.modules.get(name)
    if module is None or module.__name__ == _DIRECT_REGISTRATION:
        return None
    file = getattr(module, "__file__", None)
    return Path(file).resolve().parent if isinstance(file, str) else None


def resolve(icon: str, base: Path | None) -> Icon | None:
    """The checked icon ``icon`` names relative to ``base`` (the plugin's directory).

    Returns None for no icon (``""``) and for an http(s) URL (never fetched).
    Raises :class:`IconRefused` for anything the server would not serve.
    """
    if not icon or is_remote(icon):
        return None
    posix, windows = PurePosixPath(icon), PureWindowsPath(icon)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or icon.startswith("\\"):
        raise IconRefused("it is an absolute path: name a file relative to the plugin's module")
    if _SCHEME.match(icon):
        raise IconRefused(
            "it is neither a path nor an http(s) URL: name an SVG file relative to the "
            "plugin's module"
        )
    if "\\" in icon:
        raise IconRefused("it uses '\\': separate the path's parts with '/'")
    if ".." in posix.parts:
        raise IconRefused("its path leaves the plugin's directory ('..'): keep it in the package")
    if base is None:
        raise IconRefused(
            "the provider was registered without a plugin module (register_provider), so its "
            "path has no directory: register a module that describes it (register_plugin)"
        )
    root = base.resolve()
    path = (root / posix).resolve()
    if not path.is_relative_to(root):
        raise IconRefused("its path leads out of the plugin's directory (a symbolic link)")
    if path.exists() and not path.is_file():  # a folder, a FIFO that would block the load
        raise IconRefused(f"{path} is not a regular file")
    try:
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise IconRefused(f"there is no file {path}: ship it with the plugin") from None
    except OSError as exc:
        raise IconRefused(f"{path} cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise IconRefused(f"{path} is larger than {MAX_BYTES // 1024} KiB: an icon is small")
    try:
        check_svg(data)
    except IconRefused as exc:
        raise IconRefused(f"{path} {exc.reason}") from None
    return Icon(data, path)


def check_svg(data: bytes) -> None:
    """Refuse (:class:`IconRefused`) bytes that are not a plain, self-contained SVG image.

    The bytes must be well-formed XML whose root is ``<svg>`` in the SVG
    namespace, with no DOCTYPE (so no entities), no processing instruction, no
    ``<script>`` or ``<foreignObject>`` and no HTML element, no event-handler
    attribute (``on*``), no ``javascript:`` URL, and no reference outside the
    document: ``href``/``xlink:href`` only to a ``#fragment``, CSS ``url()``
    only to a ``#fragment``, no ``@import``. Parsed with expat directly, never
    resolving an entity or fetching anything.
    """
    from xml.parsers import expat

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    elements: list[str] = []  # the open elements' local names
    style: list[str] = []  # the text of the open <style> element

    def refuse(what: str) -> NoReturn:
        raise IconRefused(f"has {what} (line {parser.CurrentLineNumber})")

    def doctype(*_args: object) -> None:
        refuse("a DOCTYPE (an icon may declare no entities)")

    def entity(*_args: object) -> None:
        refuse("an entity declaration")

    def instruction(target: str, _data: str) -> None:
        refuse(f"a processing instruction <?{target}?>")

    def start(name: str, attributes: dict[str, str]) -> None:
        namespace, _, local = name.rpartition(" ")
        if not elements and (namespace, local) != (_SVG_NS, "svg"):
            where = f"in the namespace {namespace}" if namespace else "without a namespace"
            raise IconRefused(
                f"is not an SVG image: its root element is <{local}> {where}, not <svg> in "
                f'the SVG namespace (xmlns="{_SVG_NS}")'
            )
        elements.append(local)
        if local.lower() in _FORBIDDEN:
            refuse(_FORBIDDEN[local.lower()])
        if namespace == _XHTML_NS:
            refuse(f"an HTML element <{local}>")
        for key, value in attributes.items():
            _check_attribute(key.rpartition(" ")[2], value, refuse)

    def end(_name: str) -> None:
        if elements.pop() == "style":
            css = "".join(style)
            style.clear()
            if _EXTERNAL_CSS.search(css):
                refuse("a stylesheet that loads a file (url() not to '#id', or @import)")
            if "javascript:" in _CONTROL.sub("", css).lower():
                refuse("a javascript: URL in a stylesheet")

    def text(data: str) -> None:
        if elements and elements[-1] == "style":
            style.append(data)

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.NotationDeclHandler = entity
    parser.ProcessingInstructionHandler = instruction
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise IconRefused(
            "is not an SVG image: it is not well-formed XML "
            f"({expat.ErrorString(exc.code)}, line {exc.lineno})"
        ) from None


def _check_attribute(name: str, value: str, refuse: Callable[[str], NoReturn]) -> None:
    lowered = name.lower()
    if lowered.startswith("on"):
        refuse(f"an event-handler attribute {name}=")
    compact = _CONTROL.sub("", value).lower()
    for scheme in ("javascript:", "vbscript:"):
        if scheme in compact:
            refuse(f"a {scheme} URL in {name}=")
    if lowered in ("href", "src") and not value.strip().startswith("#"):
        refuse(f"a reference outside the icon, {name}={value[:60]!r} (only '#id' is allowed)")
    if _EXTERNAL_CSS.search(value):
        refuse(f"a url() to a file in {name}= (only url(#id) is allowed)")
