"""Figure: `navi-int mcp-config --format agent-sdk` with five connected providers, whole
process, against `navi-int list --json` in the same run: target <= 1.3x."""

from __future__ import annotations

import os
import sys
import tempfile

from _timing import median_runtimes, report


def main() -> int:
    with tempfile.TemporaryDirectory() as home:
        os.environ.update({"NAVI_INTEGRATIONS_HOME": home, "NAVI_INTEGRATIONS_KEYRING": "0"})
        os.environ.setdefault("GH_TOKEN", "ghp_" + "B" * 36)  # gh hands it to the GitHub server
        from navi_integrations import IntegrationService

        service = IntegrationService()
        service.connect("linear", {"apiKey": "lin_api_" + "a" * 40})
        service.connect("notion", {"token": "ntn_" + "b" * 40})
        service.connect("slack", {"botToken": "xoxb-1-2-abc", "teamId": "T0123ABCD"})
        service.connect("github", {})
        service.store_credentials(
            "google",
            {
                "clientId": "1-a.apps.googleusercontent.com",
                "clientSecret": "GOCSPX-" + "c" * 28,
                "accessToken": "ya29.x",
                "refreshToken": "r",
                "expiresAt": "99999999999999",
            },
        )
        navi = [sys.executable, "-m", "navi_integrations.cli"]
        results = median_runtimes(
            {
                "navi-int list --json": [*navi, "list", "--json"],
                "navi-int mcp-config --format agent-sdk": [
                    *navi,
                    "mcp-config",
                    "--format",
                    "agent-sdk",
                ],
            },
            env={"NAVI_INTEGRATIONS_HOME": home},
        )
    ok = report(
        "mcp-config with five connected providers (median of 21, whole process)",
        "navi-int list --json",
        results,
        1.3,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
