"""Asking the webserver to reload a code location (GraphQL ``reloadRepositoryLocation``).

Dagster reloads definitions only when told (no ``dagster dev`` flag watches files). The contract
sensor runs inside the code server that the reload replaces, so the call is made from a
background thread: the tick returns at once, and the daemon's next tick evaluates the new code.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request

log = logging.getLogger("lakehouse")

RELOAD = """
mutation ($name: String!) {
  reloadRepositoryLocation(repositoryLocationName: $name) {
    __typename
    ... on PythonError { message }
    ... on RepositoryLocationNotFound { message }
  }
}"""


def reload_location(webserver_url: str, location: str, timeout: float = 120) -> str:
    """Reload ``location`` now; return the result's type name (``WorkspaceLocationEntry`` when done)."""
    body = json.dumps({"query": RELOAD, "variables": {"name": location}}).encode()
    request = urllib.request.Request(
        f"{webserver_url}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        result = json.load(response)["data"]["reloadRepositoryLocation"]
    if result["__typename"] != "WorkspaceLocationEntry":
        raise RuntimeError(f"reloading {location!r}: {result.get('message', result['__typename'])}")
    return str(result["__typename"])


def request_reload(webserver_url: str, location: str) -> None:
    """``reload_location`` in a background thread; a failure is logged (the next tick asks again)."""

    def call() -> None:
        try:
            reload_location(webserver_url, location)
        except (OSError, urllib.error.URLError, RuntimeError, KeyError, ValueError) as error:
            log.error("could not reload code location %r through %s: %s", location, webserver_url, error)

    threading.Thread(target=call, name=f"reload {location}", daemon=True).start()
