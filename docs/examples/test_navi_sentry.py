"""Tests of the Sentry example, with the fixtures navi-integrations' pytest plugin provides."""

from __future__ import annotations

import navi_sentry
import pytest
from navi_integrations import IntegrationService, Registry
from navi_integrations.testing import LocalHTTPServer, Register, Reply, check_provider

TOKEN = "sntryu_" + "0a1b2c3d" * 8


@pytest.fixture(autouse=True)
def sentry(navi_register: Register) -> None:
    # An installed plugin is found through its entry point; this example is not installed.
    navi_register(navi_sentry)


def test_conformance(navi_registry: Registry) -> None:
    check_provider(
        navi_registry,
        "sentry",
        valid={"authToken": TOKEN},
        invalid=[{}, {"authToken": "not-a-token"}, {"authToken": TOKEN, "baseUrl": "a@b"}],
    )


def test_a_self_hosted_instance(
    navi_service: IntegrationService, local_http_server: LocalHTTPServer
) -> None:
    me = {"user": {"email": "ada@acme.dev", "username": "ada"}}
    local_http_server.route("GET", "/api/0/", Reply(200, json=me))
    result = navi_service.connect(
        "sentry", {"authToken": TOKEN, "baseUrl": local_http_server.url}, test=True
    )
    assert result.check is not None and result.check.account == "ada@acme.dev"


def test_something_that_is_not_sentry(
    navi_service: IntegrationService, local_http_server: LocalHTTPServer
) -> None:
    local_http_server.route("GET", "/api/0/", Reply(200, body="<html>"))
    result = navi_service.connect(
        "sentry", {"authToken": TOKEN, "baseUrl": local_http_server.url}, test=True
    )
    assert not result.saved and result.check is not None
    assert result.check.advice is not None and "check baseUrl" in str(result.check.advice)
