"""Session and CSRF tokens: signed, expiring, bound to their nonce; forgeries and other keys fail."""

from __future__ import annotations

from trilateral.web.sessions import SessionCodec


def test_a_session_verifies_until_it_expires() -> None:
    codec = SessionCodec(b"k" * 32, lifetime=60)
    token, session = codec.issue("KR-UPBIT", now=1000)
    assert codec.verify(token, now=1059) == session
    assert codec.verify(token, now=1060) is None


def test_a_tampered_token_or_another_server_s_token_is_refused() -> None:
    codec = SessionCodec(b"k" * 32)
    token, _ = codec.issue("KR-UPBIT")
    body, mac = token.split(".")
    forged = SessionCodec(b"other" * 8).issue("US")[0].split(".")[0] + "." + mac
    assert codec.verify(forged) is None
    assert codec.verify(body + "." + mac[:-2] + "AA") is None
    assert SessionCodec(b"other" * 8).verify(token) is None
    assert codec.verify("garbage") is None and codec.verify(None) is None


def test_csrf_tokens_belong_to_one_session() -> None:
    codec = SessionCodec(b"k" * 32)
    _, a = codec.issue("US")
    _, b = codec.issue("US")
    assert codec.csrf_ok(a.nonce, codec.csrf_token(a.nonce))
    assert not codec.csrf_ok(a.nonce, codec.csrf_token(b.nonce))
    assert not codec.csrf_ok(a.nonce, None) and not codec.csrf_ok(None, codec.csrf_token(a.nonce))
