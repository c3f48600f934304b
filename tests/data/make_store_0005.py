"""How tests/data/store-0005.sqlite was made: run with the code of schema 0005 (commit
60b871a, before accounts) to get a store as a user of that release had it. Not run by the
tests (they need the store as that code wrote it); kept to say what is in it."""

import os

os.environ["NAVI_INTEGRATIONS_HOME"] = "/tmp/fixhome"
os.environ["NAVI_INTEGRATIONS_KEY"] = "bWlncmF0aW9uLWZpeHR1cmUta2V5LTAwMDAwMDAwMDA="

from navi_integrations import IntegrationService

svc = IntegrationService()
svc.store_credentials("linear", {"apiKey": "lin_api_fixture_user_0005"})
svc.store_credentials("linear", {"apiKey": "lin_api_fixture_acme_0005"}, project_id="acme")
google = {
    "accessToken": "ya29.fixture-0005",
    "refreshToken": "1//fixture-refresh-0005",
    "expiresAt": "1767225600000",
    "scope": "openid email https://www.googleapis.com/auth/calendar",
    "clientId": "cid",
    "clientSecret": "csecret-0005",
}
svc.store_credentials("google", google)
svc.store_credentials("notion", {"token": "secret_notion_fixture_0005"})
svc.disable("notion", project_id="acme")
svc.update_settings("linear", project_id="acme", mcp_enabled=False)
svc.record_success("linear", account="ada@example.com")
svc.record_error("linear", "Linear rejected the key (401)", project_id="acme", kind="auth")
svc.record_success("google", account="ada@gmail.com")
svc.audit_token_read("linear", None, "cli")
