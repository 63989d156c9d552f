"""Fill the example site with a home page, a few photos and an admin user.

Safe to run again: what exists is kept. Images are drawn locally with Pillow (nothing is
downloaded). The photos are published with sharing off, so seeding posts nothing; one more
photo is left as a draft with sharing on, for you to publish. The `admin` user gets a new
random password on every run, printed at the end.
"""

import json
import math
from io import BytesIO
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.images import ImageFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse
from django.utils.crypto import get_random_string
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont
from wagtail.images import get_image_model
from wagtail.models import Page, Site

from photos.models import GalleryImage, GalleryPage, HomePage, PhotoPage

SIZE = (1200, 800)

# (title, slug, colours top→bottom, alt text, caption, drawing)
PUBLISHED = [
    (
        "Sunrise over the hills",
        "sunrise-over-the-hills",
        ((255, 170, 90), (90, 120, 200)),
        "A yellow sun rises above two rounded green hills under a sky fading from orange to blue.",
        "The first light of the day, drawn with a few circles.",
        "sun",
    ),
    (
        "Harbour at night",
        "harbour-at-night",
        ((10, 20, 60), (30, 60, 110)),
        "A dark blue night scene: a row of small yellow lights reflected as streaks in calm water.",
        "Lights along the quay, waiting for the morning tide.",
        "lights",
    ),
    (
        "Red kite",
        "red-kite",
        ((170, 210, 240), (235, 245, 250)),
        "A red diamond-shaped kite with a long tail flies in a pale blue sky, in the "
        "upper right of the picture.",
        "A windy afternoon. The image has a focal point on the kite, so crops keep it.",
        "kite",
    ),
]
# The draft waiting to be published, with "Share when published" ticked. If an earlier run's
# draft has been published, the next one is used, so there is always one to try.
DRAFTS = [
    (
        "Autumn forest",
        "autumn-forest",
        ((250, 200, 120), (150, 60, 30)),
        "Rows of triangular trees in orange, red and brown stand on a golden ground.",
        "The forest a week before the first frost.",
        "trees",
    ),
    (
        "Snow on the pass",
        "snow-on-the-pass",
        ((200, 220, 240), (250, 250, 255)),
        "White-capped grey mountains against a pale winter sky.",
        "The road over the pass closes tomorrow.",
        "mountains",
    ),
]


class Command(BaseCommand):
    help = "Create the demo content and the admin user (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help="Print the summary as JSON (demo.py reads it).",
        )

    def handle(self, *args, as_json: bool = False, **options):
        with transaction.atomic():
            home = self.home_page()
            for spec in PUBLISHED:
                self.photo_page(home, spec, publish=True)
            draft = self.draft_page(home)
            self.gallery_page(home)
        password = self.admin_password()

        summary = {
            "draft_title": draft.title,
            "draft_edit_path": reverse("wagtailadmin_pages:edit", args=[draft.pk]),
            "username": "admin",
            "password": password,
        }
        if as_json:
            self.stdout.write(json.dumps(summary))
        else:
            self.stdout.write(f"Draft to publish: {draft.title} ({summary['draft_edit_path']})")
            self.stdout.write(f"Log in as admin / {password}")

    def admin_password(self) -> str:
        """Create the superuser `admin`, or reset its password: a new random one every run."""
        User = get_user_model()
        user = User.objects.filter(username="admin").first()
        if user is None:
            user = User(username="admin", email="admin@example.com")
            self.stdout.write("Created the superuser “admin”.")
        user.is_staff = user.is_superuser = user.is_active = True
        password = get_random_string(16)  # letters and digits: easy to copy
        user.set_password(password)
        user.save()
        return password

    def home_page(self) -> HomePage:
        """The site root: a HomePage, replacing the welcome page Wagtail's migrations create."""
        site = Site.objects.filter(is_default_site=True).first() or Site(is_default_site=True)
        # Posts link to pages by their full URL, made from the Site's hostname and port.
        base = urlsplit(settings.WAGTAILADMIN_BASE_URL)
        site.hostname, site.port = base.hostname, base.port or 80
        site.site_name = settings.WAGTAIL_SITE_NAME

        home = HomePage.objects.first()
        if home is None:
            root = Page.get_first_root_node()
            # The welcome page is a plain Page; free its slug ("home") for the new home page.
            # The Site points at the root meanwhile, as deleting its root page deletes it.
            site.root_page = root
            site.save()
            for page in root.get_children().filter(slug="home"):
                if page.specific_class is Page:
                    page.delete()
            root.refresh_from_db()  # its count of children changed
            home = HomePage(
                title="Photos",
                slug="home",
                intro=(
                    "A small photo blog. New photos can be shared to Mastodon, Bluesky and X "
                    "when published."
                ),
            )
            root.add_child(instance=home)
            home.save_revision().publish()
            self.stdout.write("Created the home page.")
        site.root_page = home
        site.save()
        return home

    def photo_page(self, home, spec, *, publish: bool) -> PhotoPage:
        title, slug, colours, alt_text, caption, drawing = spec
        page = PhotoPage.objects.child_of(home).filter(slug=slug).first()
        if page is not None:
            return page
        page = PhotoPage(
            title=title,
            slug=slug,
            photo=self.image(title, colours, drawing),
            alt_text=alt_text,
            caption=caption,
            syndicate=not publish,  # published ones are not shared; the draft will be
            live=publish,
        )
        home.add_child(instance=page)
        revision = page.save_revision()
        if publish:
            revision.publish()
        self.stdout.write(f"Created {'photo' if publish else 'draft'} “{title}”.")
        return page

    def draft_page(self, home) -> PhotoPage:
        """A never-published photo with sharing on; a new one if the last was published."""
        for spec in DRAFTS:
            page = PhotoPage.objects.child_of(home).filter(slug=spec[1]).first()
            if page is None:
                return self.photo_page(home, spec, publish=False)
            if not page.live:
                return page
        # Every draft has been published already: make another of the last one.
        count = PhotoPage.objects.child_of(home).count()
        title, slug, *rest = DRAFTS[-1]
        spec = (f"{title} ({count})", f"{slug}-{count}", *rest)
        return self.photo_page(home, spec, publish=False)

    def gallery_page(self, home) -> GalleryPage:
        """A draft gallery of the seeded photos, sharing on: one post with several images."""
        page = GalleryPage.objects.child_of(home).filter(slug="a-week-of-drawings").first()
        if page is not None:
            return page
        page = GalleryPage(
            title="A week of drawings",
            slug="a-week-of-drawings",
            intro="Three of this week's drawings in one post.",
            syndicate=True,
            live=False,
        )
        for order, (title, _slug, colours, alt_text, _caption, drawing) in enumerate(PUBLISHED):
            page.gallery_images.add(
                GalleryImage(
                    image=self.image(title, colours, drawing), alt_text=alt_text, sort_order=order
                )
            )
        home.add_child(instance=page)
        page.save_revision()
        self.stdout.write("Created the draft gallery “A week of drawings”.")
        return page

    def image(self, title, colours, drawing):
        """An image drawn with Pillow and saved in Wagtail's image library."""
        Image = get_image_model()
        existing = Image.objects.filter(title=title).first()
        if existing is not None and existing.file.storage.exists(existing.file.name):
            return existing
        picture = draw(title, colours, drawing)
        buffer = BytesIO()
        picture.save(buffer, format="JPEG", quality=88)
        filename = title.lower().replace(" ", "-") + ".jpg"
        image = existing or Image(title=title)
        image.file = ImageFile(buffer, name=filename)
        if drawing == "kite":
            # The focal point is the kite; Mastodon receives it as the post's image focus.
            image.focal_point_x, image.focal_point_y = 860, 230
            image.focal_point_width, image.focal_point_height = 260, 300
        image.save()
        return image


def draw(title, colours, drawing) -> PILImage.Image:
    width, height = SIZE
    top, bottom = colours
    picture = PILImage.new("RGB", SIZE)
    pen = ImageDraw.Draw(picture)
    for y in range(height):  # vertical gradient
        t = y / (height - 1)
        colour = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        pen.line([(0, y), (width, y)], fill=colour)

    if drawing == "sun":
        pen.ellipse((480, 220, 720, 460), fill=(255, 220, 80))
        pen.ellipse((-300, 480, 700, 1300), fill=(70, 140, 70))
        pen.ellipse((400, 520, 1600, 1400), fill=(50, 115, 60))
    elif drawing == "lights":
        pen.rectangle((0, 520, width, height), fill=(5, 15, 40))
        for i in range(9):
            x = 80 + i * 130
            pen.ellipse((x - 12, 470, x + 12, 494), fill=(255, 210, 90))
            for k in range(6):
                pen.line(
                    [(x - 20 + k * 3, 540 + k * 35), (x + 20 - k * 3, 540 + k * 35)],
                    fill=(200, 170, 70),
                    width=4,
                )
    elif drawing == "kite":
        x, y = 860, 230
        pen.polygon([(x, y - 140), (x + 100, y), (x, y + 140), (x - 100, y)], fill=(210, 40, 40))
        pen.line([(x, y - 140), (x, y + 140)], fill=(120, 20, 20), width=4)
        pen.line([(x - 100, y), (x + 100, y)], fill=(120, 20, 20), width=4)
        tail = [(x + 20 * math.sin(k / 2) - k * 12, y + 140 + k * 22) for k in range(22)]
        pen.line(tail, fill=(90, 90, 90), width=3)
    elif drawing == "trees":
        pen.rectangle((0, 600, width, height), fill=(200, 150, 50))
        shades = [(200, 80, 30), (230, 120, 40), (150, 60, 30), (240, 160, 50)]
        for i in range(10):
            x = 60 + i * 120
            pen.polygon([(x, 250 + (i % 3) * 40), (x + 70, 620), (x - 70, 620)], fill=shades[i % 4])
            pen.rectangle((x - 8, 620, x + 8, 670), fill=(90, 50, 20))
    elif drawing == "mountains":
        for x, peak, shade in ((250, 220, 120), (650, 160, 100), (1000, 260, 130)):
            pen.polygon([(x - 400, height), (x, peak), (x + 400, height)], fill=(shade,) * 3)
            pen.polygon([(x - 80, peak + 80), (x, peak), (x + 80, peak + 80)], fill=(250, 250, 250))

    white, black = (255, 255, 255), (0, 0, 0)
    pen.text((50, 40), title, font=_font(56), fill=white, stroke_width=3, stroke_fill=black)
    return picture


def _font(size):
    try:
        return ImageFont.load_default(size=size)  # scalable since Pillow 10.1
    except TypeError:
        return ImageFont.load_default()
