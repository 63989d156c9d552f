"""The documentation a reader relies on: the settings reference gives every key of
``conf.DEFAULTS`` with its default and effect, every system check is documented, the README keeps
the two commands and links every page, and no link between the pages points nowhere."""

import ast
import re
from pathlib import Path

from wagtail_syndicate import checks
from wagtail_syndicate.conf import DEFAULTS

CHECKOUT = Path(__file__).resolve().parents[2]
DOCS = CHECKOUT / "docs"
README = CHECKOUT / "README.md"
SETTINGS = DOCS / "settings.md"
PAGES = [README, CHECKOUT / "CHANGELOG.md", *sorted(DOCS.glob("*.md"))]


def table_rows(text: str, header: str) -> list[list[str]]:
    """The cells of every row of the tables whose header row is ``header``."""
    rows, inside = [], False
    for line in text.splitlines():
        if line.strip() == header:
            inside = True
        elif inside and line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
            if not set(cells[0]) <= set("- "):
                rows.append(cells)
        else:
            inside = False
    return rows


def settings_reference() -> dict[str, list[tuple[str, str]]]:
    """Each key the settings reference's tables name, with the default and the effect of every
    row that names it (X's keys have a row of their own besides the one that groups them)."""
    documented = {}
    for keys, default, effect in table_rows(SETTINGS.read_text(), "| key | default | meaning |"):
        for key in re.findall(r"`(\w+)`", keys):
            documented.setdefault(key, []).append((default, effect))
    return documented


def test_the_settings_reference_gives_every_key_its_default_and_effect():
    documented = settings_reference()
    assert sorted(documented) == sorted(DEFAULTS)
    for key, default, effect in ((k, *row) for k, rows in documented.items() for row in rows):
        shown = re.fullmatch(r"`(.+)`", default)
        assert shown, f"{key}: the default {default!r} is not one literal"
        assert ast.literal_eval(shown.group(1)) == DEFAULTS[key], key
        assert len(effect.split()) >= 3, f"{key}: no effect said"


def test_every_system_check_is_documented_in_the_settings_reference():
    ids = set(re.findall(r'id="wagtail_syndicate\.([EW]\d{3})"', Path(checks.__file__).read_text()))
    assert len(ids) >= 12, ids
    named = set(re.findall(r"`(?:wagtail_syndicate\.)?([EW]\d{3})`", SETTINGS.read_text()))
    assert sorted(ids - named) == []


def test_the_readme_keeps_the_two_commands_and_links_every_page():
    text = README.read_text()
    assert re.search(r"^make demo\b", text, re.M)
    assert re.search(r"^make test\b", text, re.M)
    linked = set(re.findall(r"\]\((docs/[\w-]+\.md)\)", text))
    assert linked == {f"docs/{page.name}" for page in DOCS.glob("*.md")}
    assert "](CHANGELOG.md)" in text


def test_the_mkdocs_nav_lists_every_page():
    nav = re.findall(r"^  - [^:]+: (\S+\.md)$", (CHECKOUT / "mkdocs.yml").read_text(), re.M)
    assert sorted(nav) == sorted(page.name for page in DOCS.glob("*.md"))


def anchors(path: Path) -> set[str]:
    """The anchors a code host gives the headings of ``path`` (GitHub's rule)."""
    seen: dict[str, int] = {}
    found = set()
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.S | re.M)
    for heading in re.findall(r"^#+ (.+)$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        found.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
        seen[slug] = seen.get(slug, 0) + 1
    return found


def test_every_link_between_the_pages_and_to_the_screenshots_resolves():
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            if not resolved.exists() or (anchor and anchor not in anchors(resolved)):
                broken.append(f"{page.relative_to(CHECKOUT)}: {target}")
    assert not broken


def test_the_map_of_the_rooms_names_every_module_of_the_package():
    # The map's rows: "| room | `module` | lines | what |", the room only on its first row.
    rows = re.findall(r"^\|[^|\n]*\| `([^`]+)` \| \d+ \|", (DOCS / "index.md").read_text(), re.M)
    mapped = set(rows)
    package = CHECKOUT / "wagtail_syndicate"
    folders = {"templatetags", "management", "testing", "migrations"}  # each mapped whole
    modules = {
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if path.relative_to(package).parts[0] not in folders and path.name != "__init__.py"
    }
    assert modules - mapped == set(), "modules missing from the map in docs/index.md"
    assert {name for name in mapped if not name.endswith("/")} - modules == set(), "gone"
