"""Google provider for navi-integrations: OAuth 2.0 with your own client, per-service scopes."""

from __future__ import annotations

from navi_integrations import (
    ApiAuth,
    ApiConfig,
    CredentialField,
    Credentials,
    FieldProblem,
    HealthCheckConfig,
    HealthResult,
    IntegrationProvider,
    OAuthConfig,
    ProviderDefaults,
    SetupGuide,
    SetupStep,
    SkillConfig,
    hookimpl,
)

PROVIDER_ID = "google"
_CLIENT_SUFFIX = ".apps.googleusercontent.com"
_SCOPE = "https://www.googleapis.com/auth/"

SCOPES = {
    "openid": "Sign you in with your Google account",
    "email": "See your email address (shown as 'Connected as …')",
    _SCOPE + "gmail.readonly": "Read your emails and settings",
    _SCOPE + "gmail.send": "Send email on your behalf",
    _SCOPE + "spreadsheets": "See, edit, create and delete your Google Sheets spreadsheets",
    _SCOPE + "drive.readonly": "See and download all your Google Drive files",
    _SCOPE + "drive.file": "See, edit, create and delete the Drive files this app opens or creates",
    _SCOPE + "calendar.readonly": "See your calendars and events",
    _SCOPE + "calendar.events": "View and edit events on all your calendars",
}

SERVICE_SCOPES = {
    "gmail": [_SCOPE + "gmail.readonly", _SCOPE + "gmail.send"],
    "sheets": [_SCOPE + "spreadsheets"],
    "drive": [_SCOPE + "drive.readonly", _SCOPE + "drive.file"],
    "calendar": [_SCOPE + "calendar.readonly", _SCOPE + "calendar.events"],
}

GOOGLE = IntegrationProvider(
    id=PROVIDER_ID,
    name="Google",
    description="Gmail, Sheets, Drive and Calendar",
    icon="icon.svg",
    color="blue",
    auth_type="oauth",
    credentials=[
        CredentialField(
            key="clientId",
            label="OAuth client ID",
            type="text",
            placeholder="1234567890-abc123.apps.googleusercontent.com",
            help_url="https://console.cloud.google.com/apis/credentials",
            pattern=r"[0-9]+-[a-z0-9]+\.apps\.googleusercontent\.com",
            pattern_hint="a client ID ending in '.apps.googleusercontent.com'",
        ),
        CredentialField(
            key="clientSecret",
            label="OAuth client secret",
            placeholder="GOCSPX-...",
            help_url="https://console.cloud.google.com/apis/credentials",
            pattern=r"(GOCSPX-)?[A-Za-z0-9_-]{24,40}",
            pattern_hint="a client secret such as 'GOCSPX-' followed by 28 characters",
        ),
    ],
    oauth=OAuthConfig(
        auth_url="https://accounts.google.com/o/oauth2/v2/auth",
        token_url="https://oauth2.googleapis.com/token",
        scopes=SCOPES,
        services=list(SERVICE_SCOPES),
        service_scopes=SERVICE_SCOPES,
        base_scopes=["openid", "email"],
        # A refresh token needs offline access; consent again so that Google sends one;
        # a later sign-in for another service keeps the scopes already granted.
        auth_params={
            "access_type": "offline",
            "prompt": "consent",
            "include_granted_scopes": "true",
        },
        # Google revokes a refresh token unused for six months: `refresh --due` exercises it.
        refresh_token_idle_days=180,
    ),
    api=ApiConfig(
        base_url="https://www.googleapis.com",
        urls={
            "userinfo": "https://openidconnect.googleapis.com/v1/userinfo",
            "revoke": "https://oauth2.googleapis.com/revoke",
        },
        auth=ApiAuth(template="Bearer {{accessToken}}"),
        docs_url="https://developers.google.com/identity/protocols/oauth2/native-app",
    ),
    skill=SkillConfig(usage="google", setup="connect-google"),
    setup_skill="connect-google",
    setup_guide=SetupGuide(
        summary="Google needs an OAuth client of your own (free). Create it once in the "
        "Google Cloud Console, then sign in.",
        steps=[
            SetupStep(
                title="Create or pick a Google Cloud project",
                url="https://console.cloud.google.com/projectcreate",
            ),
            SetupStep(
                title="Enable the APIs you want",
                detail="APIs & Services > Library: Gmail API, Google Sheets API, Google Drive "
                "API, Google Calendar API.",
                url="https://console.cloud.google.com/apis/library",
            ),
            SetupStep(
                title="Configure the OAuth consent screen",
                detail="User type 'External', app name 'Navi', your email; add yourself "
                "under 'Test users' while the app is in testing.",
                url="https://console.cloud.google.com/apis/credentials/consent",
            ),
            SetupStep(
                title="Create an OAuth client ID",
                detail="Credentials > Create credentials > OAuth client ID > application type "
                "'Desktop app'. Copy the client ID and client secret.",
                url="https://console.cloud.google.com/apis/credentials",
            ),
            SetupStep(
                title="Connect",
                detail="navi-int connect google — enter the client ID and secret, then "
                "approve access in the browser.",
            ),
        ],
    ),
    health_check=HealthCheckConfig(endpoint="userinfo"),
    defaults=ProviderDefaults(mcp_enabled=False),
    env={"GOOGLE_ACCESS_TOKEN": "{{accessToken}}"},
)


@hookimpl
def describe() -> IntegrationProvider:
    """Declare the Google provider."""
    return GOOGLE


@hookimpl
def validate(provider: IntegrationProvider, credentials: Credentials) -> list[FieldProblem]:
    """Catch swapped fields and a pasted client JSON file."""
    client_id = credentials.reveal("clientId")
    secret = credentials.reveal("clientSecret")
    problems: list[FieldProblem] = []
    if client_id.lstrip().startswith("{"):
        problems.append(
            FieldProblem(
                "clientId",
                "paste the client ID itself, not the downloaded JSON file (its 'client_id')",
            )
        )
    elif secret.endswith(_CLIENT_SUFFIX) and not client_id.endswith(_CLIENT_SUFFIX):
        problems.append(FieldProblem("clientId", "client ID and secret look swapped"))
    if secret.endswith(_CLIENT_SUFFIX):
        problems.append(
            FieldProblem("clientSecret", "that is the client ID; the secret starts with 'GOCSPX-'")
        )
    return problems


@hookimpl
def health_check(
    provider: IntegrationProvider, credentials: Credentials, timeout: float
) -> HealthResult:
    """Ask Google's userinfo endpoint for the account's email with the access token."""
    if "accessToken" not in credentials:
        return HealthResult.failed(
            "auth", "not signed in to Google yet: the OAuth sign-in has not completed"
        )
    from navi_integrations import http_check

    return http_check(
        provider,
        credentials,
        timeout,
        url=provider.url("userinfo", credentials),
        parse=lambda body: HealthResult.healthy(str(body["email"])),
    )
