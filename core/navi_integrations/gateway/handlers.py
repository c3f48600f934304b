"""The gateway's MCP request handlers: list and call tools, read resources, get prompts,
each routed to its provider by the namespaced name, and the client sessions they serve."""

from __future__ import annotations

import time
import uuid
import weakref
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import IntegrationError
from .parts import SEPARATOR, GatewaySettings, ProviderState, _explain, _tool_error

if TYPE_CHECKING:
    from mcp import types
    from mcp.server.lowlevel import Server

    from .bookkeeping import Bookkeeping
    from .providers import Providers

__all__ = ["Handlers", "Sessions"]

_Provider = ProviderState


class Sessions:
    """The client sessions of one MCP server, kept weakly: to notify them of changed lists,
    and to name the caller in the audit."""

    def __init__(self, server: Server[Any, Any]) -> None:
        self._server = server
        self._ids: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()

    def remember(self) -> None:
        """Keep the current request's session, with an id for the audit."""
        try:
            context = self._server.request_context
        except LookupError:
            return
        session = context.session
        if session in self._ids:
            return
        client = session.client_params.clientInfo.name if session.client_params else "agent"
        request = getattr(context, "request", None)
        header = request.headers.get("mcp-session-id") if request is not None else None
        self._ids[session] = f"{client}/{(header or uuid.uuid4().hex)[:12]}"

    def current(self) -> str:
        """The current request's caller, as the audit names it."""
        try:
            return self._ids.get(self._server.request_context.session, "agent")
        except LookupError:
            return "agent"

    async def notify_changed(self) -> None:
        """Tell every client that the tools, resources and prompts changed."""
        import contextlib

        for session in list(self._ids):
            with contextlib.suppress(Exception):  # a client that left
                await session.send_tool_list_changed()
                await session.send_resource_list_changed()
                await session.send_prompt_list_changed()


class Handlers:
    """The MCP requests the gateway answers, over its providers."""

    def __init__(
        self,
        providers: Providers,
        bookkeeping: Bookkeeping,
        sessions: Sessions,
        settings: GatewaySettings,
    ) -> None:
        self._providers = providers
        self._bookkeeping = bookkeeping
        self._sessions = sessions
        self._settings = settings

    def requests(self) -> dict[type, Any]:
        """Each MCP request type the gateway serves, with its handler."""
        from mcp import types

        return {
            types.ListToolsRequest: self.list_tools,
            types.CallToolRequest: self.call_tool,
            types.ListResourcesRequest: self.list_resources,
            types.ListResourceTemplatesRequest: self.list_templates,
            types.ReadResourceRequest: self.read_resource,
            types.ListPromptsRequest: self.list_prompts,
            types.GetPromptRequest: self.get_prompt,
        }

    # -- handlers --------------------------------------------------------------

    async def list_tools(self, _request: Any) -> types.ListToolsResult:
        from mcp import types

        tools = []
        for state in await self._providers.listings():
            assert state.listing is not None
            for tool in state.listing.tools:
                named = {**tool, "name": f"{state.provider_id}{SEPARATOR}{tool['name']}"}
                tools.append(types.Tool.model_validate(named))
        return types.ListToolsResult(tools=tools)

    def _route(self, name: str) -> tuple[_Provider | None, str]:
        provider_id, _, inner = name.partition(SEPARATOR)
        return self._providers.get(provider_id), inner

    async def call_tool(self, request: types.CallToolRequest) -> types.CallToolResult:

        name = request.params.name
        arguments = request.params.arguments
        state, tool = self._route(name)
        if state is None or not tool:
            return _tool_error(
                f"No tool named '{name}': its integration is not connected, enabled and "
                "MCP-enabled here, or the name is wrong. List the tools again."
            )
        started = time.monotonic()
        outcome = "ok"
        if state.listing is None:  # called without listing first: its annotations are needed
            await self._providers.listings(state)
        repeatable = _repeatable(state, tool)
        try:
            result: types.CallToolResult = await self._providers.invoke(
                state,
                lambda session: session.call_tool(tool, arguments),
                policy=replace(self._settings.policy(), retry_uncertain=repeatable),
            )
            if result.isError:
                outcome = "tool_error"  # the upstream's own answer: health is fine
            return result
        except IntegrationError as exc:
            outcome = exc.kind or exc.action
            text = _explain(exc)
            if not repeatable and exc.kind == "timeout":
                text += (
                    f" The call may have been carried out: check in {state.name} before"
                    " calling it again (the gateway does not retry it, it is not idempotent)."
                )
            return _tool_error(text)
        finally:
            self._bookkeeping.tool_call(
                state.provider_id,
                caller=self._sessions.current(),
                tool=tool,
                duration_ms=int((time.monotonic() - started) * 1000),
                outcome=outcome,
            )

    async def list_resources(self, _request: Any) -> types.ListResourcesResult:
        from mcp import types

        resources = []
        for state in await self._providers.listings():
            assert state.listing is not None
            for item in state.listing.resources:
                resources.append(types.Resource.model_validate(self._named(state, item, "uri")))
        return types.ListResourcesResult(resources=resources)

    async def list_templates(self, _request: Any) -> types.ListResourceTemplatesResult:
        from mcp import types

        templates = []
        for state in await self._providers.listings():
            assert state.listing is not None
            for item in state.listing.templates:
                named = self._named(state, item, "uriTemplate")
                templates.append(types.ResourceTemplate.model_validate(named))
        return types.ListResourceTemplatesResult(resourceTemplates=templates)

    @staticmethod
    def _named(state: _Provider, item: dict[str, Any], uri_key: str) -> dict[str, Any]:
        return {
            **item,
            "name": f"{state.provider_id}{SEPARATOR}{item['name']}",
            uri_key: f"{state.provider_id}+{item[uri_key]}",
        }

    async def read_resource(self, request: types.ReadResourceRequest) -> types.ReadResourceResult:
        from mcp import McpError, types
        from pydantic import AnyUrl

        provider_id, _, inner = str(request.params.uri).partition("+")
        state = self._providers.get(provider_id)
        if state is None or not inner:
            raise McpError(types.ErrorData(code=-32602, message=f"Unknown resource {inner!r}"))
        try:
            result: types.ReadResourceResult = await self._providers.invoke(
                state, lambda session: session.read_resource(AnyUrl(inner))
            )
        except IntegrationError as exc:
            raise McpError(types.ErrorData(code=-32603, message=_explain(exc))) from None
        for content in result.contents:
            content.uri = AnyUrl(f"{provider_id}+{content.uri}")
        return result

    async def list_prompts(self, _request: Any) -> types.ListPromptsResult:
        from mcp import types

        prompts = []
        for state in await self._providers.listings():
            assert state.listing is not None
            for item in state.listing.prompts:
                named = {**item, "name": f"{state.provider_id}{SEPARATOR}{item['name']}"}
                prompts.append(types.Prompt.model_validate(named))
        return types.ListPromptsResult(prompts=prompts)

    async def get_prompt(self, request: types.GetPromptRequest) -> types.GetPromptResult:
        from mcp import McpError, types

        state, prompt = self._route(request.params.name)
        if state is None or not prompt:
            raise McpError(
                types.ErrorData(code=-32602, message=f"Unknown prompt {request.params.name!r}")
            )
        arguments = request.params.arguments
        try:
            result: types.GetPromptResult = await self._providers.invoke(
                state, lambda session: session.get_prompt(prompt, arguments)
            )
        except IntegrationError as exc:
            raise McpError(types.ErrorData(code=-32603, message=_explain(exc))) from None
        return result


def _repeatable(state: _Provider, tool: str) -> bool:
    """Whether running ``tool`` twice is harmless, as its MCP annotations say (``readOnlyHint``
    or ``idempotentHint``): only then is a timeout or a 5xx retried."""
    for item in state.listing.tools if state.listing is not None else ():
        if item.get("name") == tool:
            notes = item.get("annotations") or {}
            return bool(notes.get("readOnlyHint") or notes.get("idempotentHint"))
    return False
