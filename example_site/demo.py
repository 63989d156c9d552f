"""Run the example site with everything it needs to share a page to (fake) Mastodon, Bluesky
and X.

    make demo            (or: python example_site/demo.py)

It prepares the database and demo content, then runs five processes until you press Ctrl-C:
FakeMastodon, FakeBluesky and FakeX (look-alikes of the three networks that keep posts in
memory), the task worker that sends posts, and Django's development server. It connects one
account on each fake. Their output goes to example_site/.demo/*.log.
Ports: DEMO_PORT (site, default 8000), DEMO_MASTODON_PORT (FakeMastodon, default 8001),
DEMO_BLUESKY_PORT (FakeBluesky, 8002) and DEMO_X_PORT (FakeX, 8003).
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOGS = HERE / ".demo"
PYTHON = sys.executable
MANAGE = [PYTHON, str(HERE / "manage.py")]

os.environ.setdefault("DEMO_PORT", "8000")
os.environ["PYTHONUNBUFFERED"] = "1"  # children's logs appear as they happen
SITE = f"http://127.0.0.1:{os.environ['DEMO_PORT']}"


class Fake:
    """A fake network the demo runs (on port DEMO_<NETWORK>_PORT) and the account it connects
    there: `syndication_accounts add` reads ``secret`` (a token, an app password) on stdin."""

    def __init__(self, network, name, default_port, options, secret, add=""):
        self.network, self.name, self.secret = network, name, secret
        self.variable = f"DEMO_{network.upper()}_PORT"
        os.environ.setdefault(self.variable, str(default_port))
        self.url = f"http://127.0.0.1:{os.environ[self.variable]}"
        self.options, self.add = options.split(), add.split()

    def command(self):
        port = os.environ[self.variable]
        where = ["--network", self.network, "--host", "127.0.0.1", "--port", port]
        return [PYTHON, "-m", "syndicate_fakes", *where, *self.options]


# FakeMastodon and FakeX accept these tokens for @demo, FakeBluesky this app password for
# @demo.test. The example site's settings point X's OAuth sign-in at FakeX (DEMO_X_PORT).
MASTODON, BLUESKY, X = FAKES = [
    Fake("mastodon", "FakeMastodon", 8001, "--token demo-token --username demo", "demo-token"),
    Fake(
        "bluesky",
        "FakeBluesky",
        8002,
        "--handle demo.test --app-password demo-app-password",
        "demo-app-password",
        add="--handle demo.test",
    ),
    Fake("x", "FakeX", 8003, "--token x-demo-token --username demo", "x-demo-token"),
]


def manage(*args, **kwargs):
    """Run a management command to completion; stop the demo if it fails."""
    result = subprocess.run([*MANAGE, *args], cwd=HERE, text=True, **kwargs)  # noqa: S603
    if result.returncode:
        sys.exit(f"`manage.py {' '.join(args)}` failed (exit code {result.returncode}).")
    return result.stdout


@contextlib.contextmanager
def stage(message):
    """Say what is being done, then how long it took (migrating takes a minute or two)."""
    print(message, flush=True)
    started = time.monotonic()
    yield
    print(f"  done in {time.monotonic() - started:.1f} s", flush=True)


def prepare():
    """Migrate the database (showing each migration as it is applied) and add the demo
    content; return the demo's summary (the admin's password, the draft page)."""
    with stage("Migrating the database… (the first time: a minute or two)"):
        manage("migrate", "--noinput")
    with stage("Adding the demo content… (pages, photos, renditions)"):
        seeded = manage("seed_demo", "--json", stdout=subprocess.PIPE)
    return json.loads(seeded.strip().splitlines()[-1])  # the summary is the last line


def port_in_use(url):
    port = int(url.rsplit(":", 1)[1])
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start(name, command):
    """Start a long-running child in its own session (so Ctrl-C reaches only this script)."""
    log = open(LOGS / f"{name}.log", "w")
    process = subprocess.Popen(  # noqa: S603
        command, cwd=HERE, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    process.name = name
    return process


def wait_until_answers(url, process, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own loopback URL)
                return True
        except urllib.error.HTTPError:
            return True  # it answers, if not with 200
        except OSError:
            time.sleep(0.3)
    return False


def signal_group(process, signum):
    """Signal the child and whatever it started itself (it leads its own process group)."""
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass  # already gone


def stop(processes):
    for process in processes:
        signal_group(process, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            signal_group(process, signal.SIGKILL)
            process.wait()


def main():
    for url, variable in ((SITE, "DEMO_PORT"), *((f.url, f.variable) for f in FAKES)):
        if port_in_use(url):
            sys.exit(f"Something already answers at {url}. Choose another port: {variable}=…")
    LOGS.mkdir(exist_ok=True)

    demo = prepare()

    children = []
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    print("Starting FakeMastodon, FakeBluesky and FakeX, the worker and the site…", flush=True)
    try:
        for fake in FAKES:
            process = start(fake.network, fake.command())
            children.append(process)
            if not wait_until_answers(fake.url, process):
                sys.exit(f"{fake.name} did not start; see {LOGS / (fake.network + '.log')}.")
            # Connect the account as a site developer would from a script (the secret on
            # stdin). Run again, it updates the account already connected.
            add = ["--network", fake.network, "--instance", fake.url, *fake.add, "--token-stdin"]
            manage("syndication_accounts", "add", *add, input=fake.secret + "\n")

        # The worker reloads on code changes by default when DEBUG is on; not here, where
        # possible (django-tasks 0.7, for Wagtail 7.0, has no --no-reload).
        worker_help = manage("db_worker", "--help", stdout=subprocess.PIPE)
        no_reload = ["--no-reload"] if "--no-reload" in worker_help else []
        children.append(start("worker", [*MANAGE, "db_worker", "--interval", "1", *no_reload]))
        server = start("server", [*MANAGE, "runserver", SITE.split("//")[1], "--noreload"])
        children.append(server)
        if not wait_until_answers(SITE, server):
            sys.exit(f"The site did not start; see {LOGS / 'server.log'}.")

        banner = f"""
  The example site is running.

    Site          {SITE}/
    Admin         {SITE}/admin/
    Log in as     {demo["username"]} / {demo["password"]}
    FakeMastodon  {MASTODON.url}/   local stand-ins for the three networks,
    FakeBluesky   {BLUESKY.url}/   each listing its posts; @demo, @demo.test
    FakeX         {X.url}/   and @demo are connected

  Try it:
    1. Open the draft page “{demo["draft_title"]}” in the admin:
       {SITE}{demo["draft_edit_path"]}
       (“Share when published” is ticked on its Promote tab.)
    2. Click Publish.
    3. Open FakeMastodon, FakeBluesky and FakeX: the post, with the photo and
       its alt text, appears on each within a few seconds, fitted to each
       network. Reports → Social posts in the admin shows the three.

  Connecting an account with OAuth: Settings → Social accounts → Connect a
  Mastodon account, enter {MASTODON.url} (or @demo@{MASTODON.url.split("//")[1]}),
  then Authorize on FakeMastodon's page; or Connect an X account, then
  Authorize app on FakeX's page. (Both are connected already with tokens;
  this connects them again, with the tokens the fakes issue.)

  Logs are in {LOGS}/. Press Ctrl-C to stop.
"""
        print(banner, flush=True)

        while not stopping:
            for child in children:
                if child.poll() is not None:
                    print(
                        f"The {child.name} process stopped (exit code {child.returncode}); "
                        f"see {LOGS / (child.name + '.log')}. Stopping the others."
                    )
                    return 1
            time.sleep(0.5)
        print("\nStopping…")
        return 0
    finally:
        stop(children)


if __name__ == "__main__":
    sys.exit(main())
