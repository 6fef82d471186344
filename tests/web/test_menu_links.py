"""Every entry of the menu a role sees opens a page that role may see: no menu link ends on the
refusal page."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import ROLES

MENU = re.compile(r'<a class="nav-link[^"]*"[^>]*href="(/[^"]*)"')


@pytest.mark.parametrize("role", ROLES)
def test_each_menu_link_opens_for_its_role(as_role, role):
    client = as_role(role)
    page = client.get("/inbox", follow_redirects=True).get_data(as_text=True)
    links = sorted(set(MENU.findall(page)))
    assert links, f"{role} sees no menu"
    refused = {link: status for link in links
               if (status := client.get(link).status_code) not in (200, 302)}
    assert refused == {}, f"{role}'s menu leads to pages it may not see"
