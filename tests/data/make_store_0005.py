import os, json
os.environ["NAVI_INTEGRATIONS_HOME"] = "/tmp/fixhome"
os.environ["NAVI_INTEGRATIONS_KEY"] = "bWlncmF0aW9uLWZpeHR1cmUta2V5LTAwMDAwMDAwMDA="
from navi_integrations import IntegrationService
from navi_integrations.results import HealthResult
from navi_integrations.scopes import Scope
svc = IntegrationService()
svc.store_credentials("linear", {"apiKey": "lin_api_fixture_user_0005"})
svc.store_credentials("linear", {"apiKey": "lin_api_fixture_acme_0005"}, project_id="acme")
svc.store_credentials("google", {"accessToken": "ya29.fixture-0005", "refreshToken": "1//fixture-refresh-0005",
    "expiresAt": "1767225600000", "scope": "openid email https://www.googleapis.com/auth/calendar", "clientId": "cid", "clientSecret": "csecret-0005"})
svc.store_credentials("notion", {"token": "secret_notion_fixture_0005"})
svc.disable("notion", project_id="acme")

svc.update_settings("linear", project_id="acme", mcp_enabled=False)
svc.record_success("linear", account="ada@example.com")
svc.record_error("linear", "Linear rejected the key (401)", project_id="acme", kind="auth")
svc.record_success("google", account="ada@gmail.com")
svc.audit_token_read("linear", None, "cli")
print(svc.status_document(project_id="acme"))
