"""Sign-in, the session cookie, CSRF, lock-out and sign-out of the web pages."""

from __future__ import annotations

import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.cli import main
from service.config import get_settings
from service.web.auth import SESSION_COOKIE, session_secret
from tests.web.conftest import (
    ACCOUNTS,
    PASSWORD,
    MakeWebClient,
    csrf_of,
    sign_in,
    web_settings,
)

PAGES = ("/", "/batch", "/opvolging", "/bedrijven", "/overzicht")


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_strangers_to_the_sign_in_and_back(web: TestClient, path: str) -> None:
    response = web.get(path, follow_redirects=False)
    assert response.status_code == 303
    expected = "/inloggen" if path == "/" else f"/inloggen?volgende={path}"
    assert response.headers["location"] == expected


def test_sign_in_sets_a_signed_httponly_lax_cookie_and_returns_to_the_page(
    web: TestClient,
) -> None:
    token = csrf_of(web.get("/inloggen").text)
    response = web.post(
        "/inloggen",
        data={
            "email": ACCOUNTS.officer_a.upper(),
            "password": PASSWORD,
            "csrf_token": token,
            "volgende": "/opvolging",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/opvolging"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower().replace("samesite", "")
    page = web.get("/opvolging")
    assert page.status_code == 200
    assert ACCOUNTS.officer_a in page.text and "ROC Alfa" in page.text
    # A new session at sign-in: the token of the anonymous form is not reused.
    assert csrf_of(page.text) != token


def test_the_secure_flag_follows_the_setting(make_web_client: MakeWebClient) -> None:
    with make_web_client(cookie_secure=True) as client:
        cookie = client.get("/inloggen").headers["set-cookie"].lower()
        assert "; secure" in cookie


def test_a_wrong_password_gets_a_dutch_error_and_no_session(web: TestClient) -> None:
    response = sign_in(web, ACCOUNTS.officer_a, "niet-het-goede-wachtwoord")
    assert response.status_code == 400
    assert "Het e-mailadres of het wachtwoord klopt niet." in response.text
    assert web.get("/", follow_redirects=False).status_code == 303
    # An unknown address reads exactly the same.
    unknown = sign_in(web, "niemand@nergens.nl", "niet-het-goede-wachtwoord")
    assert unknown.status_code == 400
    assert "Het e-mailadres of het wachtwoord klopt niet." in unknown.text


@pytest.mark.parametrize("email", [ACCOUNTS.officer_a, "onbekend@roc-alfa.nl"])
def test_repeated_failures_lock_the_address_even_for_the_right_password(
    make_web_client: MakeWebClient, email: str
) -> None:
    with make_web_client(login_max_failures=3) as client:
        for _ in range(2):
            assert sign_in(client, email, "fout-fout-fout-fout").status_code == 400
        locked = sign_in(client, email, "fout-fout-fout-fout")
        assert locked.status_code == 429
        assert "tijdelijk geblokkeerd" in locked.text
        again = sign_in(client, email, PASSWORD)
        assert again.status_code == 429
        assert client.get("/", follow_redirects=False).status_code == 303
        # Other accounts are not affected.
        assert sign_in(client, ACCOUNTS.officer_b).status_code == 303


def test_the_lock_ends_after_its_time(make_web_client: MakeWebClient) -> None:
    with make_web_client(login_max_failures=1, login_lockout_minutes=0.0005) as client:
        assert sign_in(client, ACCOUNTS.officer_a, "fout-fout-fout-fout").status_code == 429
        time.sleep(0.1)
        assert sign_in(client, ACCOUNTS.officer_a).status_code == 303


def test_every_post_needs_the_csrf_token(officer_a: TestClient) -> None:
    missing = officer_a.post("/uitloggen", data={}, follow_redirects=False)
    assert missing.status_code == 403
    assert "Formulier verlopen" in missing.text
    wrong = officer_a.post("/uitloggen", data={"csrf_token": "x" * 43}, follow_redirects=False)
    assert wrong.status_code == 403
    assert officer_a.get("/").status_code == 200  # still signed in
    login = officer_a.post("/inloggen", data={"email": ACCOUNTS.officer_b, "password": PASSWORD})
    assert login.status_code == 403


def test_sign_out_ends_the_session_also_for_a_copied_cookie(officer_a: TestClient) -> None:
    copied = officer_a.cookies.get(SESSION_COOKIE)
    token = csrf_of(officer_a.get("/").text)
    response = officer_a.post("/uitloggen", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/inloggen"
    assert "Je bent uitgelogd." in officer_a.get("/inloggen").text
    assert officer_a.get("/", follow_redirects=False).status_code == 303
    officer_a.cookies.set(SESSION_COOKIE, copied or "")
    assert officer_a.get("/", follow_redirects=False).status_code == 303


def test_a_tampered_cookie_is_ignored(officer_a: TestClient) -> None:
    value = officer_a.cookies.get(SESSION_COOKIE) or ""
    officer_a.cookies.set(SESSION_COOKIE, value[:-3] + ("AAA" if value[-3:] != "AAA" else "BBB"))
    assert officer_a.get("/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
def test_sign_in_never_sends_the_user_to_another_site(web: TestClient, target: str) -> None:
    token = csrf_of(web.get("/inloggen").text)
    response = web.post(
        "/inloggen",
        data={
            "email": ACCOUNTS.officer_a,
            "password": PASSWORD,
            "csrf_token": token,
            "volgende": target,
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son[a-z]+=", re.IGNORECASE)


@pytest.mark.parametrize("path", ("/inloggen", *PAGES))
def test_pages_are_dutch_with_a_strict_csp_and_no_inline_code(web: TestClient, path: str) -> None:
    if path != "/inloggen":
        assert sign_in(web, ACCOUNTS.officer_a).status_code == 303
    response = web.get(path)
    assert response.status_code == 200
    assert 'lang="nl"' in response.text
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert not INLINE.search(response.text), INLINE.search(response.text)
    assert response.headers["x-frame-options"] == "DENY"


def test_the_session_secret_is_made_once_and_kept_private(tmp_path: Path) -> None:
    settings = web_settings(tmp_path, session_secret=None)
    first = session_secret(settings)
    assert session_secret(settings) == first and len(first) >= 32
    mode = (tmp_path / "session.key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


# -- the users command -------------------------------------------------------------------


@pytest.fixture
def cli_env(web_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in ("STAGECHECK_DATABASE_URL", "STAGECHECK_AUTH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STAGECHECK_DATA_DIR", str(web_data_dir))
    get_settings.cache_clear()
    yield web_data_dir
    get_settings.cache_clear()


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_users_create_reads_the_password_from_stdin_and_can_sign_in(
    cli_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    make_web_client: MakeWebClient,
) -> None:
    _stdin(monkeypatch, "een-lang-genoeg-wachtwoord\n")
    code = main(
        ["users", "create", "--org", "ROC Beta", "--role", "admin", "--email", "Nieuw@ROC-beta.nl"]
    )
    assert code == 0
    assert "nieuw@roc-beta.nl" in capsys.readouterr().err
    assert main(["users", "list", "--org", "ROC Beta"]) == 0
    listing = capsys.readouterr().out
    assert "nieuw@roc-beta.nl" in listing and "een-lang" not in listing
    with make_web_client() as client:
        assert sign_in(client, "nieuw@roc-beta.nl", "een-lang-genoeg-wachtwoord").status_code == 303


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--org", "ROC Alfa", "--role", "officer", "--email", "x@roc-alfa.nl"], "kort\n", "12"),
        (["--org", "ROC Alfa", "--role", "sbb", "--email", "x@roc-alfa.nl"], "a" * 20, "sbb"),
        (
            ["--org", "ROC Gamma", "--role", "officer", "--email", "x@g.nl"],
            "a" * 20,
            "no organisation",
        ),
        (
            ["--org", "ROC Alfa", "--role", "officer", "--email", ACCOUNTS.officer_a],
            "a" * 20,
            "exists",
        ),
    ],
)
def test_users_create_refuses_with_a_reason(
    cli_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    stdin: str,
    message: str,
) -> None:
    _stdin(monkeypatch, stdin)
    assert main(["users", "create", *args]) == 2
    assert message in capsys.readouterr().err


def test_a_browser_gets_a_dutch_page_for_an_unknown_path_and_the_api_json(
    officer_a: TestClient,
) -> None:
    page = officer_a.get("/bestaat-niet", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "Niet gevonden" in page.text and 'lang="nl"' in page.text
    api = officer_a.get("/v1/bestaat-niet", headers={"Accept": "text/html"})
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    plain = officer_a.get("/bestaat-niet")
    assert plain.headers["content-type"] == "application/problem+json"
