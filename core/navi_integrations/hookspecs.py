"""Every hook a provider plugin can implement, each documented as a contract.

A plugin is any module or object registered in the ``navi_integrations``
entry-point group (or with :meth:`Registry.register_plugin`). It marks its
implementations with ``navi_integrations.hookimpl`` and implements only the
hooks it needs; argument names must match the spec (a plugin may accept
fewer arguments than the spec offers).

Two kinds of hooks:

* **Fan-out** (``describe``): every plugin is called, all answers are used.
* **First answer** (``validate``, ``health_check``, ``mcp_config``,
  ``refresh``, ``runtime_credentials``): aimed at one provider. The core
  calls them only on the plugins that provider belongs to: the plugin whose
  ``describe`` declared it, any plugin that lists the provider's id in a
  ``navi_extends`` attribute (a collection of ids, for a plugin that adds to
  another's provider), and the core's built-in defaults (registered
  ``trylast``). It calls them in pluggy's order (last registered first,
  ``tryfirst``/``trylast`` respected) and stops at the first answer that is
  not ``None``. A plugin therefore never sees another provider's credentials
  and needs no ``if provider.id != ...`` guard; it returns ``None`` only to
  leave the answer to the core's default.

Isolation: the core calls each implementation itself, so a plugin that
raises is reported with its distribution name and version
(:class:`~navi_integrations.errors.PluginError`) without affecting other
providers. For that reason wrappers (``hookwrapper=True`` / ``wrapper=True``)
are refused.

Secrets: credentials arrive as :class:`~navi_integrations.models.Credentials`
(values are ``SecretStr``). An implementation reveals a value only to send
it to the provider, and never puts one in a return value's message, a log
line, or an exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .errors import FieldProblem, ProviderDefinitionError
    from .models import Credentials, IntegrationProvider, McpServer
    from .results import HealthResult

PROJECT_NAME = "navi_integrations"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def describe() -> (
    IntegrationProvider | Sequence[IntegrationProvider | ProviderDefinitionError] | None
):
    """Declare the providers this plugin offers. **Fan-out**: every plugin is asked.

    Called once per :class:`Registry` when the providers are first needed
    (``navi-int list``, ``show``, any store operation), after every plugin
    has been registered.

    Return one :class:`IntegrationProvider`, a sequence of them, or ``None``
    when the plugin offers no provider (a plugin that only overrides another
    hook). A plugin that builds providers from user files may put a
    :class:`ProviderDefinitionError` (an instance, not raised) in the
    sequence for each definition it could not build: each is reported by
    ``navi-int plugins`` and the other providers still load.

    Answers that are not valid models are reported against the plugin; a
    provider id declared by two plugins is refused for both, naming them.
    The answer must depend only on the installed code and on files whose
    changes the catalog fingerprint sees: the CLI caches it across processes.
    """


@hookspec(firstresult=True)
def validate(provider: IntegrationProvider, credentials: Credentials) -> list[FieldProblem] | None:
    """Check credential values before they are stored. **First answer.**

    Called by ``connect`` once every required field of
    ``provider.credentials`` is present (values may still fail their
    ``pattern``). The core checks patterns itself; an implementation adds
    what a declarative field cannot say (e.g. "that is a user token, not a
    bot token"), and its problem for a field replaces the core's generic
    one. It must not call the network: ``health_check`` does that.

    :param provider: the provider being connected (one your plugin described
        or extends).
    :param credentials: the values the user entered, by field key.
    :return: one :class:`FieldProblem` per refused field, whose message says
        what is expected without quoting the value; an empty list when the
        values are acceptable; ``None`` to leave it to the core's pattern
        checks alone.
    """


@hookspec(firstresult=True)
def health_check(
    provider: IntegrationProvider, credentials: Credentials, timeout: float
) -> HealthResult | None:
    """Check that the stored credentials work, against the provider's real API. **First answer.**

    Called by ``navi-int test``, by ``connect`` before saving (test before
    configure) and by the health tracker.

    :param provider: the provider to check (yours).
    :param credentials: the credentials to check.
    :param timeout: seconds the whole check may take.
    :return: a :class:`HealthResult` saying healthy or not, why, and for
        whom ("Connected as …"); ``None`` to leave the check to the core,
        which runs the declared ``provider.health_check``.
    """


@hookspec(firstresult=True)
def mcp_config(provider: IntegrationProvider, credentials: Credentials) -> McpServer | None:
    """Produce the MCP server config an agent runtime should launch or reach. **First answer.**

    Called by ``navi-int mcp-config`` and the Python API, only for providers
    that are connected, enabled and MCP-enabled in the effective scope.

    :param provider: the provider (yours).
    :param credentials: the stored credentials, to fill ``{{field}}``
        placeholders of ``provider.mcp``.
    :return: the filled server config; ``None`` to let the core fill
        ``provider.mcp`` itself.
    """


@hookspec(firstresult=True)
def refresh(provider: IntegrationProvider, credentials: Credentials) -> Credentials | None:
    """Renew credentials that expire (OAuth access tokens). **First answer.**

    Called when a token is about to expire or was refused as expired. The
    core's default implementation (registered ``trylast``) performs a
    generic OAuth 2.0 refresh; a plugin overrides it for a provider whose
    refresh differs.

    :param provider: the provider (yours).
    :param credentials: the current credentials (including the refresh token).
    :return: the new full set of credentials to store (with a rotated
        refresh token if the provider issued one); ``None`` to let the core's
        standard OAuth 2.0 refresh answer. Raise :class:`~navi_integrations.errors.NaviError`
        subclasses for a refused refresh.
    """


@hookspec(firstresult=True)
def runtime_credentials(
    provider: IntegrationProvider, credentials: Credentials
) -> Credentials | None:
    """Complete stored credentials with values known only when they are used. **First answer.**

    Called each time credentials are read for a provider whose ``authType``
    is ``cli`` (e.g. GitHub's token lives in ``gh``, not in Navi's store),
    before they are handed to ``mcp_config``, ``navi-int run`` or ``token``.

    :param provider: the provider (yours).
    :param credentials: what the store holds (may be empty).
    :return: the credentials with the runtime values added (e.g. ``token``);
        ``None`` when nothing needs adding. Raise a
        :class:`~navi_integrations.errors.NaviError` when the value cannot
        be had (e.g. not logged in), saying what to run.
    """
