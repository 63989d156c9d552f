"""Run the example site with everything it needs to share a page to (a fake) Mastodon.

    make demo            (or: python example_site/demo.py)

It prepares the database and demo content, then runs three processes until you press Ctrl-C:
FakeMastodon (a Mastodon look-alike that keeps posts in memory), the task worker that sends
posts, and Django's development server. Their output goes to example_site/.demo/*.log.
Ports: DEMO_PORT (site, default 8000) and DEMO_MASTODON_PORT (FakeMastodon, default 8001).
"""

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
TOKEN = "demo-token"  # FakeMastodon accepts this token for the account @demo

os.environ.setdefault("DEMO_PORT", "8000")
os.environ.setdefault("DEMO_MASTODON_PORT", "8001")
os.environ["PYTHONUNBUFFERED"] = "1"  # children's logs appear as they happen
SITE = f"http://127.0.0.1:{os.environ['DEMO_PORT']}"
MASTODON = f"http://127.0.0.1:{os.environ['DEMO_MASTODON_PORT']}"


def manage(*args, **kwargs):
    """Run a management command to completion; stop the demo if it fails."""
    result = subprocess.run([*MANAGE, *args], cwd=HERE, text=True, **kwargs)  # noqa: S603
    if result.returncode:
        sys.exit(f"`manage.py {' '.join(args)}` failed (exit code {result.returncode}).")
    return result.stdout


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
    for url, variable in ((SITE, "DEMO_PORT"), (MASTODON, "DEMO_MASTODON_PORT")):
        if port_in_use(url):
            sys.exit(f"Something already answers at {url}. Choose another port: {variable}=…")
    LOGS.mkdir(exist_ok=True)

    print("Preparing the database and the demo content…", flush=True)
    manage("migrate", "--noinput", "-v", "0")
    seeded = manage("seed_demo", "--json", stdout=subprocess.PIPE)
    demo = json.loads(seeded.strip().splitlines()[-1])  # the summary is the last line

    children = []
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    try:
        port = os.environ["DEMO_MASTODON_PORT"]
        fake = f"--host 127.0.0.1 --port {port} --token {TOKEN} --username demo".split()
        mastodon = start("mastodon", [PYTHON, "-m", "wagtail_syndicate.testing", *fake])
        children.append(mastodon)
        if not wait_until_answers(MASTODON, mastodon):
            sys.exit(f"FakeMastodon did not start; see {LOGS / 'mastodon.log'}.")

        # Connect the account as a site developer would from a script (the token on stdin).
        # Run again, it updates the account already connected.
        add = f"syndication_accounts add --network mastodon --instance {MASTODON} --token-stdin"
        manage(*add.split(), input=TOKEN + "\n")

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
    FakeMastodon  {MASTODON}/   (a local stand-in for a Mastodon server)

  Try it:
    1. Open the draft page “{demo["draft_title"]}” in the admin:
       {SITE}{demo["draft_edit_path"]}
       (“Share when published” is ticked on its Promote tab.)
    2. Click Publish.
    3. Open FakeMastodon: the post, with the photo and its alt text, appears
       within a few seconds. Reports → Social posts in the admin shows it too.

  Connecting an account with OAuth: Settings → Social accounts → Connect a
  Mastodon account, enter {MASTODON} (or @demo@{MASTODON.split("//")[1]}), then
  Authorize on FakeMastodon's page. (@demo is already connected with a token;
  this connects it again, with the token FakeMastodon issues.)

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
