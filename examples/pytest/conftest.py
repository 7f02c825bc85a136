"""An ephemeral Triage for the whole pytest session.

`triage serve --ephemeral --json` prints one line of JSON (URLs, tenant, apps and secrets, the CA file)
once it listens; SIGTERM stops it and removes its temporary folder.
"""

import json
import os
import shlex
import subprocess

import pytest
import requests

# How to run Triage: `npx triage` where it is installed; TRIAGE_COMMAND overrides it (CI runs the checkout's bin).
TRIAGE_COMMAND = shlex.split(os.environ.get("TRIAGE_COMMAND", "npx --no-install triage"))


@pytest.fixture(scope="session")
def triage():
    proc = subprocess.Popen(
        [*TRIAGE_COMMAND, "serve", "--ephemeral", "--json"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"triage serve --ephemeral exited with {proc.wait()}")
        yield json.loads(line)
    finally:
        proc.terminate()  # SIGTERM: Triage stops and removes its folder
        proc.wait(timeout=30)


@pytest.fixture(scope="session")
def https(triage):
    """A requests session that trusts Triage's CA, for MSAL (its http_client) and for the API calls.

    Not MSAL's `verify=` parameter alone: when REQUESTS_CA_BUNDLE is set in the environment (many CI
    images set it to the system bundle), requests prefers it to a session's `verify`, and Triage's
    certificate is refused. `trust_env = False` makes the session use its own `verify` whatever the
    environment says (and no proxy from it: Triage is on loopback).
    """
    session = requests.Session()
    session.verify = triage["caFile"]
    session.trust_env = False
    yield session
    session.close()
