"""The fakes judge the plugin, so they share none of its code: no module of syndicate_fakes
imports anything of wagtail_syndicate (its counting, fitting, limits, posts or networks), nor
Django or Wagtail, wherever the import is written. What they import besides their own package is
the standard library, ``regex`` (their text counter) and, for the pytest plugin alone, pytest."""

import ast
import sys
from pathlib import Path

import syndicate_fakes

FAKES = "syndicate_fakes"
FAKES_DIR = Path(syndicate_fakes.__file__).parent
# What the fakes may import besides the standard library and themselves (the distribution's one
# dependency, and pytest, which loads the plugin module).
ALLOWED = {"regex", "pytest"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(FAKES_DIR).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((FAKES, *parts))


def _imported(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every module an ``import`` or ``from ... import`` anywhere in ``tree`` (functions,
    classes and ``if TYPE_CHECKING`` blocks too) names, made absolute; a relative import
    reaching above the top-level package is named ``..`` followed by what it names."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                if node.level - 1 >= len(base):
                    target = ".." + (node.module or "")
                else:
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            dot = "" if target == ".." else "."
            found += [(node.lineno, f"{target}{dot}{alias.name}") for alias in node.names]
    return found


def _foreign(name: str) -> bool:
    top = name.split(".")[0]
    if name.startswith(".."):
        return True  # outside the package: nothing of the fakes' own
    return not (top == FAKES or top in sys.stdlib_module_names or top in ALLOWED)


def foreign_imports(root: Path) -> list[str]:
    """``path:line name`` for each import by a module under ``root`` of anything but the fakes,
    the standard library and ``ALLOWED``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        module = _module_name(path) if root == FAKES_DIR else FAKES + "." + path.stem
        for line, name in _imported(tree, module, path.name == "__init__.py"):
            if _foreign(name):
                found.append(f"{path.name}:{line} {name}")
    return found


def test_no_module_of_the_fakes_imports_plugin_code_or_other_packages():
    assert foreign_imports(FAKES_DIR) == []


def test_the_guard_sees_every_way_of_importing_plugin_code(tmp_path):
    (tmp_path / "relative.py").write_text("from ..text import weighted_length\n")
    (tmp_path / "package.py").write_text("from .. import limits\n")
    (tmp_path / "absolute.py").write_text("from wagtail_syndicate.fitting import fit\n")
    (tmp_path / "plain.py").write_text("import wagtail_syndicate.networks.x as x\n")
    (tmp_path / "inside.py").write_text(
        "def later():\n    from wagtail_syndicate.posts import Post\n    return Post\n"
    )
    (tmp_path / "django.py").write_text("from django.conf import settings\n")
    (tmp_path / "wagtail.py").write_text("import wagtail.models\n")
    (tmp_path / "allowed.py").write_text(
        "from . import _pages\nfrom ._counting import links\n"
        "import syndicate_fakes._http\nimport regex\nimport json, http.server\n"
    )
    assert foreign_imports(tmp_path) == [
        "absolute.py:1 wagtail_syndicate.fitting.fit",
        "django.py:1 django.conf.settings",
        "inside.py:2 wagtail_syndicate.posts.Post",
        "package.py:1 ..limits",
        "plain.py:1 wagtail_syndicate.networks.x",
        "relative.py:1 ..text.weighted_length",
        "wagtail.py:1 wagtail.models",
    ]
