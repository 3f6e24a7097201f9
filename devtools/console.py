"""A helpline worker, moderator or lead signed in to the staff console, as a browser would be."""

from __future__ import annotations

import re
from typing import Any

from bot.database import session_factory, session_scope
from bot.staff import service as staff
from bot.staff.models import Role
from devtools.teen import Http, expect

LOGIN_FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
PAGE_TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


def create_account(database_url: str, name: str, role: Role = Role.STAFF) -> str:
    """A console account, straight in the database as `make user` makes one; its password."""
    with session_scope(session_factory(database_url)) as session:
        _, password = staff.create_user(name, role, session=session)
    return password


class ConsoleClient:
    """Signs in through the login form (its CSRF token from the form), then sends the page's CSRF token
    with every change, as the console's own script does."""

    def __init__(self, http: Http, *, secure_cookies_over_http: bool = False) -> None:
        self.http = http
        # A browser sends Secure cookies to a loopback origin over plain HTTP; httpx does not. A service
        # started with its default BOT_COOKIE_SECURE=1 (make run) needs them sent by hand.
        self.secure_cookies_over_http = secure_cookies_over_http
        self.csrf = ""

    def login_form_token(self) -> str:
        return LOGIN_FORM_TOKEN.search(expect(self.http.request("GET", "/console/login"), 200).text).group(1)

    def sign_in(self, username: str, password: str) -> Any:
        """Post the login form; once signed in, read the CSRF token of the page it leads to."""
        form = {"username": username, "password": password, "csrf_token": self.login_form_token()}
        self._send_all_cookies()
        response = self.http.request("POST", "/console/login", data=form, follow_redirects=False)
        if response.status_code == 303:
            self._send_all_cookies()
            found = PAGE_TOKEN.search(self.http.request("GET", response.headers["location"]).text)
            self.csrf = found.group(1) if found else ""
        return response

    def api(self, method: str, path: str, json: Any = None, csrf: bool = True) -> Any:
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        return self.http.request(method, path, json=json, headers=headers)

    def state(self) -> dict:
        return expect(self.api("GET", "/console/api/state"), 200).json()

    def go_on_shift(self) -> None:
        expect(self.api("POST", "/console/api/shift", {"on_shift": True}), 200)

    def _send_all_cookies(self) -> None:
        if self.secure_cookies_over_http:
            jar = self.http.cookies.jar
            self.http.headers["Cookie"] = "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)
