"""`trilateral demo --serve` prints the console's URL and a sign-in line for every member and client."""

from __future__ import annotations

from types import SimpleNamespace

from fastapi.testclient import TestClient
from rich.console import Console


def test_demo_serve_prints_the_console_url_and_each_sign_in(home, monkeypatch) -> None:
    import uvicorn

    from trilateral.cli import demo_command
    from trilateral.hub import Hub

    Hub.open().init()
    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(app=app, **kw))  # do not block
    console = Console(record=True, width=200)
    summary = SimpleNamespace(tokens={"US": "tok-us", "KR-UPBIT": "tok-upbit"})
    demo_command._serve(console, summary, "127.0.0.1", 8123)
    text = console.export_text()
    assert "http://127.0.0.1:8123/login" in text
    for code, token in summary.tokens.items():
        assert f"code {code}" in text and token in text
    with TestClient(served["app"]) as client:  # the served app has the console mounted
        assert client.get("/login").status_code == 200
