"""The photo page of a site without wagtail-syndicate, for bench/publish_overhead.py."""
