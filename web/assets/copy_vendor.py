"""Copy browser-ready files from web/assets/node_modules into web/static/vendor (no CDN)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ASSETS = Path(__file__).resolve().parent
MODULES = ASSETS / "node_modules"
VENDOR = ASSETS.parent / "static" / "vendor"

# package -> [(source path inside the package, destination inside vendor/<package>/)]
FILES: dict[str, list[tuple[str, str]]] = {
    "bootstrap": [
        ("dist/css/bootstrap.min.css", "bootstrap.min.css"),
        ("dist/css/bootstrap.min.css.map", "bootstrap.min.css.map"),
        ("dist/js/bootstrap.bundle.min.js", "bootstrap.bundle.min.js"),
        ("dist/js/bootstrap.bundle.min.js.map", "bootstrap.bundle.min.js.map"),
    ],
    "htmx.org": [("dist/htmx.min.js", "htmx.min.js")],
    "bpmn-js": [
        ("dist/bpmn-viewer.production.min.js", "bpmn-viewer.production.min.js"),
        ("dist/bpmn-navigated-viewer.production.min.js", "bpmn-navigated-viewer.production.min.js"),
        ("dist/bpmn-modeler.production.min.js", "bpmn-modeler.production.min.js"),
        ("dist/assets", "assets"),
    ],
    # dmn-js JavaScript is bundled by esbuild (BUNDLES); only its stylesheets and fonts are copied.
    "dmn-js": [("dist/assets", "assets")],
    "echarts": [("dist/echarts.min.js", "echarts.min.js")],
    # Only the accessibility browser tests inject axe (page.add_script_tag); no page links it.
    "axe-core": [("axe.min.js", "axe.min.js")],
    "@bpmn-io/properties-panel": [
        ("dist/assets/properties-panel.css", "properties-panel.css"),
    ],
}

# esbuild bundles: entry in web/assets/src -> destination inside vendor/.
# jiefen-modeler: bpmn-js Modeler + properties panel + camunda moddle/behaviors (window.JiefenModeler).
# dmn-js: window.DmnJS like upstream's dist files, but with NODE_ENV=production (dmn-js#965).
DMN_BUNDLES = ("dmn-viewer", "dmn-navigated-viewer", "dmn-modeler")
BUNDLES: list[tuple[str, str]] = [
    ("modeler-entry.js", "jiefen-modeler/modeler.bundle.js"),
    *[(f"{name}.js", f"dmn-js/{name}.bundle.js") for name in DMN_BUNDLES],
]
LICENSE_NAMES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "license")

# CSP (script-src/style-src 'self') blocks style="" attributes that libraries parse from HTML
# strings, and Chromium logs each block as a console error. These attributes are removed from
# the copied files; web/static/css/jiefen.css restores the same rules with classes. A patch that
# no longer matches fails the build, so an upgrade cannot silently bring the problem back.
STYLE_PATCHES: list[tuple[str, str]] = [
    ("jiefen-modeler/modeler.bundle.js", ' style="height: 100%" tabindex="-1" class="bio-'),
    ("jiefen-modeler/modeler.bundle.js", ' style="flex: none; height: auto" class="bio-'),
    *[
        (f"dmn-js/{name}.bundle.js", attr)
        for name in DMN_BUNDLES
        for attr in (
            ' style="position: absolute; bottom: 15px; right: 15px; z-index: 100;"',
            ' style="vertical-align:middle"',
        )
    ],
]


def declared_versions() -> dict[str, str]:
    """Return the exact versions pinned in package.json (dependencies and devDependencies)."""
    data = json.loads((ASSETS / "package.json").read_text(encoding="utf-8"))
    return {**data.get("dependencies", {}), **data.get("devDependencies", {})}


def installed_version(package: str) -> str:
    """Return the version of an installed package, failing clearly if it is missing."""
    manifest = MODULES / package / "package.json"
    if not manifest.is_file():
        sys.exit(f"copy_vendor: {package} is not installed; run `npm ci` in {ASSETS}")
    return json.loads(manifest.read_text(encoding="utf-8"))["version"]


def check_versions() -> dict[str, str]:
    """Refuse to copy from a node_modules that does not match the pinned versions."""
    wanted = declared_versions()
    stale = {p: (v, installed_version(p)) for p, v in wanted.items() if installed_version(p) != v}
    if stale:
        lines = ", ".join(f"{p} pinned {w} installed {i}" for p, (w, i) in stale.items())
        sys.exit(f"copy_vendor: node_modules is stale ({lines}); run `npm ci`")
    return wanted


def copy_item(src: Path, dst: Path) -> None:
    """Copy a file or a whole directory."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst)
    else:
        shutil.copy2(src, dst)


def copy_package(package: str, items: list[tuple[str, str]]) -> None:
    """Copy one package's distribution files and its licence into vendor/<package>/."""
    root = MODULES / package
    target = VENDOR / package
    for src, dst in items:
        if not (root / src).exists():
            sys.exit(f"copy_vendor: {package}/{src} not found (did the package layout change?)")
        copy_item(root / src, target / dst)
    for name in LICENSE_NAMES:
        if (root / name).is_file():
            shutil.copy2(root / name, target / "LICENSE")
            break


def build_bundle(entry: str, out: str) -> None:
    """Bundle one entry with the pinned esbuild (a devDependency installed by `npm ci`)."""
    target = VENDOR / out
    target.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        "npx",
        "--no",
        "esbuild",
        f"src/{entry}",
        "--bundle",
        "--minify",
        "--format=iife",
        "--target=es2020",
        "--legal-comments=external",
        "--log-level=warning",
        '--define:process.env.NODE_ENV="production"',
        f"--outfile={target}",
    ]
    subprocess.run(cmd, cwd=ASSETS, check=True)


def strip_style_attributes() -> None:
    """Apply STYLE_PATCHES: drop each style attribute (keeping any text after it) exactly once."""
    for relative, needle in STYLE_PATCHES:
        path = VENDOR / relative
        text = path.read_text(encoding="utf-8")
        if text.count(needle) != 1:
            sys.exit(
                f"copy_vendor: patch for {relative} matched {text.count(needle)} times: {needle!r}"
            )
        kept = needle[needle.index('"', needle.index("style=") + 7) + 1 :]
        path.write_text(text.replace(needle, kept), encoding="utf-8")


def main() -> None:
    """Rebuild web/static/vendor from scratch."""
    versions = check_versions()
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    for package, items in FILES.items():
        copy_package(package, items)
    for entry, out in BUNDLES:
        build_bundle(entry, out)
    strip_style_attributes()
    (VENDOR / "versions.json").write_text(
        json.dumps(versions, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    sys.stdout.write(f"copy_vendor: {len(FILES)} packages, {len(BUNDLES)} bundles -> {VENDOR}\n")


if __name__ == "__main__":
    main()
