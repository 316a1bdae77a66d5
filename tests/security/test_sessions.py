"""Login, logout, wrong passwords, session cookie flags and lifetime."""
from __future__ import annotations

from tests.security.conftest import PASSWORD, auth_config, csrf_cookie, login, make_app


def test_a_page_without_a_session_redirects_to_the_login_form(client):
    res = client.get("/alerts?from=1")
    assert res.status_code == 302 and res.headers["Location"] == "/login?next=/alerts?from=1"


def test_the_login_page_is_a_plain_form_with_a_csrf_field(client):
    page = client.get("/login").get_data(as_text=True)
    assert "<form method='post' action='/login'>" in page and "name='csrf_token'" in page
    assert "_dash" not in page


def test_the_right_password_logs_in_and_opens_the_dashboard(client):
    res = login(client, next_="/cache")
    assert res.status_code == 303 and res.headers["Location"] == "/cache"
    assert client.get("/").status_code == 200
    assert client.get("/api/targets").status_code == 200


def test_a_wrong_password_is_refused_without_a_session(client):
    res = login(client, password="wrong " + PASSWORD)
    assert res.status_code == 401 and "Wrong user name or password" in res.get_data(as_text=True)
    assert client.get_cookie("lookout_session") is None
    assert client.get("/api/targets").status_code == 401


def test_an_unknown_user_is_refused_the_same_way(client):
    res = login(client, username="mallory")
    assert res.status_code == 401 and "Wrong user name or password" in res.get_data(as_text=True)


def test_a_login_post_without_the_form_token_is_refused(client):
    res = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert res.status_code == 403
    assert client.get("/api/targets").status_code == 401


def test_the_next_parameter_cannot_send_people_to_another_site(client):
    res = login(client, next_="//evil.example/phish")
    assert res.headers["Location"] == "/"


def test_logout_ends_the_session(client):
    login(client)
    res = client.post("/logout", data={"csrf_token": csrf_cookie(client)})
    assert res.status_code == 303 and res.headers["Location"] == "/login"
    assert client.get("/api/targets").status_code == 401


def test_session_cookies_are_httponly_samesite_and_not_secure_on_plain_http_loopback(client):
    cookies = login(client).headers.getlist("Set-Cookie")
    session = next(c for c in cookies if c.startswith("lookout_session="))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Secure" not in session
    csrf = next(c for c in cookies if c.startswith("_csrf_token="))
    assert "HttpOnly" not in csrf  # Dash's renderer must read it


def test_session_cookies_are_secure_when_the_public_url_is_https(tmp_path):
    text = auth_config("auto") + "server: {public_url: 'https://lookout.example.com'}\n"
    app, runtime = make_app(tmp_path, text)
    try:
        cookies = login(app.test_client()).headers.getlist("Set-Cookie")
        assert all("Secure" in c for c in cookies if c.startswith(("lookout_session=", "_csrf_token=")))
    finally:
        runtime.store.close()


def test_a_session_older_than_its_lifetime_is_refused(tmp_path):
    app, runtime = make_app(tmp_path, auth_config())
    try:
        now = [1_800_000_000.0]
        app.extensions["lookout_guard"].clock = lambda: now[0]
        client = app.test_client()
        login(client)
        assert client.get("/api/targets").status_code == 200
        now[0] += 3601
        assert client.get("/api/targets").status_code == 401
    finally:
        runtime.store.close()


def test_a_session_ends_when_the_password_changes(tmp_path):
    app, runtime = make_app(tmp_path, auth_config())
    try:
        client = app.test_client()
        login(client)
        guard = app.extensions["lookout_guard"]
        user = guard.auth.users[0]
        object.__setattr__(user, "password_hash", "pbkdf2:sha256:1000$other$" + "0" * 64)
        assert client.get("/api/targets").status_code == 401
    finally:
        runtime.store.close()
