"""`trilateral serve` as a command: a port in use is one clear line, not a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def test_port_in_use_is_a_one_line_error(home: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "trilateral", "serve", "--port", str(port)],
                              env=dict(os.environ, TRILATERAL_HOME=str(home)), capture_output=True, text=True,
                              timeout=60)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == [f"error: port {port} on 127.0.0.1 is already in use; stop the other server or pass --port"]
    assert done.stdout == ""


def test_several_workers_continue_each_others_next_tokens(home: Path, tmp_path: Path) -> None:
    from taxii2client.v21 import as_pages

    from tests.taxii.conftest import running_server
    from tests.taxii.stix_factory import envelope, indicator

    url = f"sqlite:///{home / 'hub.sqlite3'}"
    with running_server(url, home, tmp_path, ("--workers", "2")) as server:
        us = server.collection("US")
        objects = [indicator(1000 + n) for n in range(30)]
        us.add_objects(envelope(*objects))
        ids = ",".join(o.id for o in objects)
        seen = [o["id"] for page in as_pages(us.get_objects, per_request=3, id=ids) for o in page["objects"]]
    assert sorted(seen) == sorted(o.id for o in objects)
