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
