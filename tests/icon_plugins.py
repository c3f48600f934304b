"""A test plugin whose providers ship icons: a good SVG, none, a URL, and files the registry
must refuse (each refusal names its reason). Installed as a real distribution with the
``install_plugin`` fixture; the icon files are written beside its module."""

from __future__ import annotations

from pathlib import Path

from .conftest import InstallFn

GOOD_SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
    b' viewBox="0 0 24 24" width="24" height="24">\n'
    b"<title>Iconic</title>\n"
    b'<defs><linearGradient id="g"><stop offset="0" stop-color="#0a7"/>'
    b'<stop offset="1" stop-color="#05a"/></linearGradient>'
    b'<circle id="dot" cx="12" cy="12" r="5"/></defs>\n'
    b"<style>.ring { stroke: #fff; }</style>\n"
    b'<rect width="24" height="24" rx="5" fill="url(#g)"/>\n'
    b'<use xlink:href="#dot" fill="#fff"/><use href="#dot" class="ring" fill="none"/>\n'
    b"</svg>\n"
)

_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">%s</svg>'

#: Provider id -> (icon file, its bytes, what the load problem must say).
REFUSED: dict[str, tuple[str, bytes, str]] = {
    "bad-script": ("script.svg", _SVG % b"<script>alert(1)</script>", "a <script> element"),
    "bad-onload": (
        "onload.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        "an event-handler attribute onload=",
    ),
    "bad-javascript": (
        "javascript.svg",
        _SVG % b'<a href="java&#x09;script:alert(1)"><rect width="9" height="9"/></a>',
        "a javascript: URL in href=",
    ),
    "bad-external": (
        "external.svg",
        _SVG
        % b'<image xmlns:xlink="http://www.w3.org/1999/xlink" xlink:href="https://tracker.example/p.png"/>',
        "a reference outside the icon",
    ),
    "bad-entity": (
        "entity.svg",
        b'<!DOCTYPE svg [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        + _SVG % b"<text>&lol2;</text>",
        "a DOCTYPE",
    ),
    "bad-foreign": (
        "foreign.svg",
        _SVG % b'<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>',
        "a <foreignObject> element",
    ),
    "bad-big": (
        "big.svg",
        _SVG % (b"<!-- " + b"x" * (64 * 1024) + b" -->"),
        "is larger than 64 KiB",
    ),
    "bad-png": ("icon.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "is not an SVG image"),
    "bad-html": (
        "page.svg",
        b'<html xmlns="http://www.w3.org/1999/xhtml"><body>hi</body></html>',
        "is not an SVG image: its root element is <html>",
    ),
    "bad-escape": ("../outside.svg", GOOD_SVG, "leaves the plugin's directory"),
    "bad-missing": ("missing.svg", b"", "there is no file"),
}

PLUGIN = """
from navi_integrations import IntegrationProvider, hookimpl

ICONS = {icons!r}


@hookimpl
def describe():
    return [
        IntegrationProvider(id=pid, name=pid.replace("-", " ").title(), description="icon test",
            icon=icon, color="green", auth_type="api_key",
            credentials=[{{"key": "apiKey", "label": "Key"}}])
        for pid, icon in ICONS.items()
    ]
"""


def install_icon_plugin(
    install_plugin: InstallFn, site: Path, *, remote_url: str, absolute: bool = True
) -> dict[str, str]:
    """Install ``navi-iconic``: ``iconic`` (a good SVG), ``plain`` (no icon), ``remote`` (the
    URL ``remote_url``, never to be fetched) and every :data:`REFUSED` case (plus
    ``bad-absolute``, an absolute path to a good SVG). Returns provider id -> icon."""
    icons = {"iconic": "icons/iconic.svg", "plain": "", "remote": remote_url}
    icons.update({pid: name for pid, (name, _data, _why) in REFUSED.items()})
    outside = site.parent / "outside.svg"
    if absolute:
        icons["bad-absolute"] = str(outside)
    install_plugin("navi-iconic", PLUGIN.format(icons=icons))
    (site / "icons").mkdir(parents=True, exist_ok=True)
    (site / "icons" / "iconic.svg").write_bytes(GOOD_SVG)
    outside.write_bytes(GOOD_SVG)
    for name, data, _why in REFUSED.values():
        if name.startswith("..") or name == "missing.svg":
            continue
        (site / name).write_bytes(data)
    return icons
