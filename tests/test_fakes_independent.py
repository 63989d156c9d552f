"""The fakes judge the plugin, so they share none of its code: no module under
wagtail_syndicate/testing/ imports anything of wagtail_syndicate outside that package (its
counting, fitting, limits, posts or networks), wherever the import is written."""

import ast
from pathlib import Path

import wagtail_syndicate.testing

PACKAGE = "wagtail_syndicate"
FAKES = "wagtail_syndicate.testing"
FAKES_DIR = Path(wagtail_syndicate.testing.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(FAKES_DIR).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((FAKES, *parts))


def _imported(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every module an ``import`` or ``from ... import`` anywhere in ``tree`` (functions,
    classes and ``if TYPE_CHECKING`` blocks too) names, made absolute."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # "from .. import text" names wagtail_syndicate.networks.text, not wagtail_syndicate.
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


def _outside_fakes(name: str) -> bool:
    inside_package = name == PACKAGE or name.startswith(PACKAGE + ".")
    return inside_package and not (name == FAKES or name.startswith(FAKES + "."))


def plugin_imports(root: Path) -> list[str]:
    """``path:line name`` for each import of plugin code by a module under ``root``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        module = _module_name(path) if root == FAKES_DIR else FAKES + "." + path.stem
        for line, name in _imported(tree, module, path.name == "__init__.py"):
            if _outside_fakes(name):
                found.append(f"{path.name}:{line} {name}")
    return found


def test_no_module_of_the_fakes_imports_plugin_code():
    assert plugin_imports(FAKES_DIR) == []


def test_the_guard_sees_every_way_of_importing_plugin_code(tmp_path):
    (tmp_path / "relative.py").write_text("from ..text import weighted_length\n")
    (tmp_path / "package.py").write_text("from .. import limits\n")
    (tmp_path / "absolute.py").write_text("from wagtail_syndicate.content.fitting import fit\n")
    (tmp_path / "plain.py").write_text("import wagtail_syndicate.networks.x.client as x\n")
    (tmp_path / "inside.py").write_text(
        "def later():\n    from wagtail_syndicate.content.posts import Post\n    return Post\n"
    )
    (tmp_path / "allowed.py").write_text(
        "from . import _pages\nfrom ._counting import links\n"
        "import wagtail_syndicate.testing._http\nimport regex\n"
    )
    assert plugin_imports(tmp_path) == [
        "absolute.py:1 wagtail_syndicate.content.fitting.fit",
        "inside.py:2 wagtail_syndicate.content.posts.Post",
        "package.py:1 wagtail_syndicate.limits",
        "plain.py:1 wagtail_syndicate.networks.x.client",
        "relative.py:1 wagtail_syndicate.text.weighted_length",
    ]
