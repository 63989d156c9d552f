"""The one HTTP wrapper: time-outs, status codes mapped to exceptions, messages kept.

Every request of every network goes through ``HttpClient.request``. Tokens travel only in the
Authorization header and never appear in an exception message or a log line.

``addresses``: public addresses only, connections pinned to the address checked;
``deadlines``: each request's deadline and a run's; ``responses``: reading an answer, error
bodies, rate-limit times; ``uploads``: bodies streamed from files; ``client``: ``HttpClient``.
"""

from wagtail_syndicate.networks.http.addresses import normalize_instance_url
from wagtail_syndicate.networks.http.client import HttpClient
from wagtail_syndicate.networks.http.deadlines import (
    RUN_MARGIN,
    network_time_per_run,
    run_deadline,
    run_margin,
)
from wagtail_syndicate.networks.http.responses import epoch_time, json_object, too_far
from wagtail_syndicate.networks.http.uploads import Upload

__all__ = [
    "RUN_MARGIN",
    "HttpClient",
    "Upload",
    "epoch_time",
    "json_object",
    "network_time_per_run",
    "normalize_instance_url",
    "run_deadline",
    "run_margin",
    "too_far",
]
