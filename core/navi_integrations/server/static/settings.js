// The settings page: renders the API's documents and follows /api/events.
// A plain ES module, no build step; every request goes to this server (CSP 'self').

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const project = document.querySelector('meta[name="navi-project"]').content.trim() || null;
const query = project ? `?projectId=${encodeURIComponent(project)}` : "";
const providers = new Map(); // id -> provider document, with .status (its status entry)
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value == null) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(method, path, body) {
  const options = { method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const document = await response.json().catch(() => ({}));
  if (!response.ok && response.status !== 422) {
    throw new Error(document.message || `${method} ${path} failed (${response.status})`);
  }
  return { status: response.status, document };
}

function announce(text) {
  $("announce").textContent = text;
}

function showProblem(text) {
  const problem = $("problem");
  problem.textContent = text;
  problem.hidden = !text;
}

// Advice is data (an action, a command, a hint): here each action is a control that does it,
// and the command is only a secondary "or in a terminal" hint.
function adviceHint(advice) {
  if (!advice || !advice.hint) return "";
  const text = advice.hint.replace(/^./, (c) => c.toUpperCase());
  return /[.?!]$/.test(text) ? text : `${text}.`;
}

function terminalHint(advice) {
  if (!advice || !advice.command) return null;
  return el("p", { class: "terminal-hint" }, "or in a terminal: ", el("code", {}, advice.command));
}

function countdown(doc, until) {
  const out = el("span", { class: "countdown", role: "timer", "aria-live": "off" });
  const tick = () => {
    const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
    if (!out.isConnected && out.dataset.started) return clearInterval(timer);
    out.dataset.started = "yes";
    if (left === 0) {
      clearInterval(timer);
      out.replaceWith(actionButton(doc, "Test again", () => test(doc)));
      return;
    }
    const m = Math.floor(left / 60), s = String(left % 60).padStart(2, "0");
    out.textContent = `Rate limited: try again in ${m}:${s}`;
  };
  const timer = setInterval(tick, 1000);
  tick();
  return out;
}

function actionButton(doc, label, onclick) {
  return el("button", { type: "button", class: "fix-action", onclick,
    "aria-label": `${label}: ${doc.name}`, "data-action": label }, label);
}

// The control for one piece of advice about ``doc`` (null when nothing on the page can help).
function adviceAction(doc, advice, rateLimitedUntil) {
  const action = advice && advice.action;
  if (action === "connect") {
    const forProject = doc.status && doc.status.credentialScope === "project";
    return actionButton(doc, "Reconnect", () => openConnect(doc, { forProject }));
  }
  if (action === "enable") return actionButton(doc, "Switch on", () => switchTo(doc, true, !!project));
  if (action === "wait" && rateLimitedUntil && rateLimitedUntil > Date.now()) return countdown(doc, rateLimitedUntil);
  if (action === "wait" || action === "retry_later") return actionButton(doc, "Test again", () => test(doc));
  if (action === "login") return actionButton(doc, "Check again", () => test(doc));
  return null; // fix_plugin, fix_store, fix_input, none: nothing to click that would help
}

function adviceBlock(doc, advice, rateLimitedUntil) {
  if (!advice) return [];
  const hint = adviceHint(advice);
  return [
    hint ? el("p", { class: "fix" }, hint) : null,
    adviceAction(doc, advice, rateLimitedUntil),
    terminalHint(advice),
  ].filter(Boolean);
}

const HEALTH_LABEL = {
  healthy: "Healthy",
  degraded: "Degraded",
  failed: "Needs attention",
  disabled: "Switched off",
  unknown: "Not checked yet",
};

function scopeBody(forProject) {
  return forProject ? { scope: "project", projectId: project } : { scope: "global" };
}

function toggle(provider, label, checked, onChange, note, action) {
  const id = `${provider}-${label.toLowerCase().replace(/\W+/g, "-")}`;
  return el(
    "div",
    { class: "toggle" },
    el("input", {
      type: "checkbox",
      role: "switch",
      id,
      checked,
      "aria-describedby": note ? `${id}-note` : null,
      onchange: (event) => onChange(event.target.checked),
    }),
    el("label", { for: id }, label),
    note ? el("span", { class: "note", id: `${id}-note` }, note) : null,
    action || null,
  );
}

// The provider's own icon (its plugin's SVG, served by this server at doc.iconUrl), or the
// name's initial when it has none or the image does not load.
function badge(doc) {
  const letter = () =>
    el("span", { class: `icon c-${doc.color || "slate"}`, "aria-hidden": "true", "data-icon": "letter" },
      doc.name.slice(0, 1).toUpperCase());
  if (!doc.iconUrl) return letter();
  const image = el("img", {
    onerror: () => image.replaceWith(letter()),
    class: "icon icon-image",
    src: doc.iconUrl,
    alt: "",
    width: 36,
    height: 36,
    decoding: "async",
    "data-icon": "image",
  });
  return image;
}

const SERVICE_LABELS = { gmail: "Gmail", sheets: "Sheets", drive: "Drive", calendar: "Calendar" };
function serviceLabel(name) {
  return SERVICE_LABELS[name] || name.replace(/^./, (c) => c.toUpperCase());
}

function card(doc) {
  const status = doc.status;
  const block = status.status.project || status.status.global;
  const health = block.health;
  const connected = status.hasCredentials;
  const head = el(
    "div",
    { class: "card-head" },
    badge(doc),
    el("h3", {}, doc.name),
    connected
      ? el(
          "span",
          { class: `health h-${health}`, "data-health": health },
          el("span", { class: "dot", "aria-hidden": "true" }),
          HEALTH_LABEL[health] || health,
        )
      : null,
  );
  const body = [el("p", { class: "desc" }, doc.description)];
  if (!connected) {
    body.push(
      el("div", { class: "actions" },
        el("button", { type: "button", onclick: () => openConnect(doc) , "aria-label": `Connect ${doc.name}`}, "Connect")),
    );
    return el("article", { class: "card", "data-provider": doc.id, "aria-label": doc.name }, head, body);
  }
  if (status.account) body.push(el("p", { class: "account" }, `Connected as ${status.account}`));
  const accounts = status.accounts || [];
  if (accounts.length > 1) {
    // Several named connections: which one this scope uses, and a button to use another.
    body.push(el("ul", { class: "accounts", "aria-label": `${doc.name} accounts` },
      accounts.map((a) => el("li", { "data-account": a.name },
        el("span", {}, a.name),
        el("span", { class: "note" }, ` ${a.scope === "project" ? "this project" : "all projects"}`
          + `${a.default ? ", default" : ""} · ${HEALTH_LABEL[a.health] || a.health}`),
        a.inUse
          ? el("span", { class: "in-use" }, " (in use)")
          : el("button", { type: "button", "aria-label": `Use ${doc.name} account ${a.name}`,
              onclick: () => useAccount(doc, a.name) }, "Use")))));
  }
  if (status.credentialScope === "project") body.push(el("p", { class: "note" }, "Credentials for this project only"));
  const offered = (doc.oauth && doc.oauth.services) || [];
  if (offered.length) {
    const granted = new Set(status.services || []);
    body.push(el("ul", { class: "services", "aria-label": `${doc.name} services` },
      offered.map((name) => el("li", { class: granted.has(name) ? "granted" : "missing",
        "data-service": name },
        el("span", { "aria-hidden": "true" }, granted.has(name) ? "✓ " : "– "),
        serviceLabel(name), granted.has(name) ? "" : el("span", { class: "sr-only" }, " (not granted)")))));
  }
  if (status.lastError) {
    body.push(
      el("div", { class: "last-error", role: "note" },
        el("p", {}, status.lastError.message),
        adviceBlock(doc, status.lastError.advice, status.rateLimitedUntil)),
    );
  } else if (status.rateLimitedUntil && status.rateLimitedUntil > Date.now()) {
    body.push(el("div", { class: "last-error", role: "note" }, countdown(doc, status.rateLimitedUntil)));
  }
  const g = status.status.global;
  const p = status.status.project;
  const own = status.projectSwitches; // in a project: what it sets itself (null: inherited)
  const toggles = [
    toggle(doc.id, "Global", g.enabled, (on) => switchTo(doc, on, false)),
  ];
  // In a project each switch inherits the global one until set; a set one can be reset.
  const inherits = (key, label) => {
    if (!p || !own) return [null, null];
    if (own[key] === null) return [`${g[key] ? "on" : "off"} (inherited)`, null];
    return ["set for this project",
      el("button", { type: "button", class: "link", "aria-label": `${doc.name} ${label}: inherit again`,
        onclick: () => inherit(doc, key, label) }, "Reset")];
  };
  if (p) {
    toggles.push(toggle(doc.id, "This project", p.enabled, (on) => switchTo(doc, on, true),
      ...inherits("enabled", "This project")));
  }
  const current = p || g;
  toggles.push(toggle(doc.id, "MCP", current.mcpEnabled, (on) => settings(doc, { mcpEnabled: on }),
    ...inherits("mcpEnabled", "MCP")));
  toggles.push(toggle(doc.id, "Skill", current.skillEnabled, (on) => settings(doc, { skillEnabled: on }),
    ...inherits("skillEnabled", "Skill")));
  body.push(el("fieldset", { class: "toggles" }, el("legend", {}, `${doc.name} switches`), toggles));
  body.push(
    el("div", { class: "actions" },
      el("button", { type: "button", class: "secondary", onclick: () => test(doc), "aria-label": `Test ${doc.name}` }, "Test"),
      el("button", { type: "button", class: "secondary", onclick: () => openConnect(doc), "aria-label": `Edit ${doc.name}` }, "Edit"),
      el("button", { type: "button", class: "danger", onclick: () => disconnect(doc), "aria-label": `Disconnect ${doc.name}` }, "Disconnect")),
  );
  return el("article", { class: "card", "data-provider": doc.id, "aria-label": doc.name }, head, body);
}

function render() {
  const connected = $("connected");
  const available = $("available");
  const docs = [...providers.values()].sort((a, b) => a.name.localeCompare(b.name));
  const mine = docs.filter((d) => d.status.hasCredentials);
  const rest = docs.filter((d) => !d.status.hasCredentials);
  connected.replaceChildren(...(mine.length ? mine.map(card) : [el("p", { class: "empty" }, "Nothing connected yet.")]));
  available.replaceChildren(...(rest.length ? rest.map(card) : [el("p", { class: "empty" }, "Every integration is connected.")]));
}

// A problem the server rendered into the page (a project id it refused) stays until the
// first change made here.
let serverProblem = !$("problem").hidden;

async function load() {
  try {
    const { document } = await api("GET", `api/credentials/providers${query}`);
    providers.clear();
    for (const doc of document.providers) providers.set(doc.id, doc);
    render();
    if (!serverProblem) showProblem("");
    serverProblem = false;
  } catch (error) {
    showProblem(error.message);
  }
}

function update(entry) {
  const doc = providers.get(entry.provider);
  if (!doc) return load();
  doc.status = entry;
  render();
}

async function act(promise, done) {
  try {
    const { status, document } = await promise;
    if (status === 422) throw new Error(document.message || "refused");
    if (document.provider && document.status) {
      // A global change answers in the user scope: the page shows the project's context.
      if ((document.projectId || null) === project) update(document);
      else await refresh(document.provider);
    }
    if (done) announce(done);
    showProblem("");
    return document;
  } catch (error) {
    showProblem(error.message);
    return null;
  }
}

function switchTo(doc, on, forProject) {
  const verb = on ? "enable" : "disable";
  return act(api("POST", `api/integrations/${doc.id}/${verb}`, scopeBody(forProject)),
    `${doc.name} ${on ? "enabled" : "disabled"}${forProject ? " for this project" : ""}`);
}

function inherit(doc, key, label) {
  return act(api("POST", `api/integrations/${doc.id}/reset`, { switches: [key], ...scopeBody(true) }),
    `${doc.name} ${label} inherits the global switch again`);
}

function settings(doc, change) {
  return act(api("POST", `api/integrations/${doc.id}/settings`, { ...change, ...scopeBody(!!project) }),
    `${doc.name} settings saved`);
}

async function test(doc) {
  const { document } = await api("POST", `api/credentials/${doc.id}/test${query}`);
  announce(document.ok ? `${doc.name}: ${document.message}` : `${doc.name}: ${document.message}. ${adviceHint(document.advice)}`);
  await refresh(doc.id);
}

async function refresh(id) {
  const { document } = await api("GET", `api/integrations/${id}/status${query}`);
  update(document);
}

async function useAccount(doc, account) {
  const where = project ? { projectId: project, account } : { scope: "global", account };
  await act(api("POST", `api/credentials/${doc.id}/use`, where), `${doc.name} uses ${account}`);
  await refresh(doc.id);
}

async function disconnect(doc) {
  const where = doc.status.credentialScope === "project" ? { scope: "project", projectId: project } : { scope: "global" };
  await act(api("DELETE", `api/credentials/${doc.id}`, where), `${doc.name} disconnected`);
  await refresh(doc.id);
}

// -- the connect dialog ----------------------------------------------------------------

let connecting = null;

function openConnect(doc, { forProject = false } = {}) {
  connecting = doc;
  const dialog = $("connect-dialog");
  $("connect-guide").hidden = false;
  $("connect-title").textContent = `Connect ${doc.name}`;
  const guide = doc.setupGuide || {};
  $("connect-guide").replaceChildren(
    guide.summary ? el("p", {}, guide.summary) : "",
    el("ol", { class: "steps" }, (guide.steps || []).map((step) =>
      el("li", {}, el("strong", {}, step.title), step.detail ? el("span", {}, ` — ${step.detail}`) : null,
        step.url ? el("span", {}, " ", el("a", { href: step.url, target: "_blank", rel: "noopener noreferrer" }, "open")) : null))),
  );
  const fields = [];
  if (doc.authType === "cli" && doc.cli) {
    fields.push(el("p", {}, "Sign in with the provider's own tool in a terminal, then press Check:"),
      el("pre", {}, el("code", {}, doc.cli.authCommand)));
    $("connect-submit").textContent = "Check";
  } else {
    const inputs = (doc.credentials || []).map((spec) => {
      const id = `field-${spec.key}`;
      return el("div", { class: "field" },
        el("label", { for: id }, spec.label, spec.required ? "" : " (optional)"),
        el("input", { id, name: spec.key, type: spec.type === "password" ? "password" : "text",
          placeholder: spec.placeholder || null, required: spec.required, autocomplete: "off",
          "aria-describedby": spec.patternHint ? `${id}-hint` : null }),
        spec.patternHint ? el("small", { id: `${id}-hint` }, spec.patternHint) : null);
    });
    const offered = (doc.oauth && doc.oauth.services) || [];
    if (doc.authType === "oauth") {
      // Step 1, the OAuth app (its guide above): skipped when one is saved, unless changed.
      const saved = doc.status && doc.status.hasCredentials;
      const app = el("fieldset", { class: "step", id: "oauth-app", disabled: saved },
        el("legend", {}, "1. Your OAuth app"), inputs);
      if (saved) {
        app.hidden = true;
        fields.push(el("p", { class: "note" }, "Uses the OAuth app you saved. ",
          el("button", { type: "button", class: "link", onclick: (event) => {
            app.hidden = false; app.disabled = false; event.target.parentElement.remove();
            const first = app.querySelector("input"); if (first) first.focus();
          } }, "Change the OAuth app")));
        $("connect-guide").hidden = true;
      }
      fields.push(app);
      if (offered.length) {
        const granted = new Set((doc.status && doc.status.services) || []);
        fields.push(el("fieldset", { class: "step services-step" },
          el("legend", {}, `${saved ? "" : "2. "}Services to grant`),
          offered.map((name) => {
            const id = `service-${name}`;
            return el("div", { class: "check" },
              el("input", { type: "checkbox", id, name: "service", value: name,
                checked: granted.size ? granted.has(name) : true, disabled: granted.has(name) }),
              el("label", { for: id }, serviceLabel(name), granted.has(name) ? " (granted)" : ""));
          })));
      }
    } else {
      fields.push(...inputs);
    }
    $("connect-submit").textContent = doc.authType === "oauth" ? "Sign in" : "Test and save";
  }
  if (project) {
    fields.push(toggle("connect", "For this project only", forProject, () => {}));
  }
  $("connect-fields").replaceChildren(...fields);
  $("connect-problem").hidden = true;
  dialog.showModal();
  const first = dialog.querySelector("input");
  if (first) first.focus();
}

async function submitConnect(event) {
  event.preventDefault();
  const doc = connecting;
  const form = $("connect-form");
  const values = {};
  for (const spec of doc.credentials || []) {
    const input = form.elements[spec.key];
    const value = input && !input.disabled ? input.value.trim() : "";
    if (value) values[spec.key] = value;
  }
  // The services asked for: only the new ones (a granted one stays granted), as
  // `connect google --service` asks only for what it adds.
  const services = [...form.querySelectorAll('input[name="service"]')]
    .filter((box) => box.checked && !box.disabled).map((box) => box.value);
  const onlyProject = project && $("connect-for-this-project-only") && $("connect-for-this-project-only").checked;
  const scope = onlyProject ? { scope: "project", projectId: project } : { scope: "global" };
  const problem = $("connect-problem");
  $("connect-submit").disabled = true;
  try {
    if (doc.authType === "oauth") {
      await oauth(doc, values, scope, services);
      return;
    }
    const { status, document } = await api("POST", `api/credentials/${doc.id}`, { credentials: values, ...scope });
    if (status === 422) {
      const fix = adviceHint(document.advice);
      problem.replaceChildren(
        el("p", {}, `Saved nothing: ${document.message}.${fix ? " " + fix : ""}`),
        // In the dialog the fix is the form itself: the terminal is only a hint.
        document.advice && document.advice.action !== "fix_input" ? terminalHint(document.advice) : null,
      );
      problem.hidden = false;
      return;
    }
    $("connect-dialog").close();
    announce(`${doc.name} connected${document.account ? " as " + document.account : ""}`);
    await refresh(doc.id);
  } catch (error) {
    problem.textContent = error.message;
    problem.hidden = false;
  } finally {
    $("connect-submit").disabled = false;
  }
}

async function mcpAuthorize(doc, values, scope) {
  // A hosted MCP server: the server discovers and registers; the sign-in page returns to a
  // one-shot listener on this machine, and /api/events shows the card connected.
  const popup = window.open("about:blank", "navi-oauth", "width=520,height=680");
  const { status, document } = await api("POST", `api/credentials/${doc.id}/mcp-authorize`, {
    clientId: values.clientId || null, ...scope });
  if (status !== 200) {
    if (popup) popup.close();
    throw new Error(document.message || "the sign-in could not start");
  }
  $("connect-dialog").close();
  if (!document.authorizationUrl) {
    if (popup) popup.close();
    announce(`${doc.name} connected`);
    await refresh(doc.id);
    return;
  }
  if (popup) popup.location = document.authorizationUrl;
  else window.open(document.authorizationUrl, "_blank", "noopener");
  announce(`Finish signing in to ${doc.name} in the popup`);
}

async function oauth(doc, values, scope, services) {
  if (doc.oauth && doc.oauth.discovery === "mcp") return mcpAuthorize(doc, values, scope);
  const offered = (doc.oauth && doc.oauth.services) || [];
  if (offered.length && !services.length) {
    const granted = (doc.status && doc.status.services) || [];
    if (granted.length) {
      $("connect-dialog").close();
      announce(`${doc.name}: every service chosen is granted already`);
      return;
    }
    throw new Error("choose at least one service to grant");
  }
  // The provider's other non-secret fields (a self-hosted instance's URL) go along.
  const fields = {};
  for (const spec of doc.credentials || []) {
    if (spec.type !== "password" && !["clientId", "clientSecret"].includes(spec.key) && values[spec.key]) {
      fields[spec.key] = values[spec.key];
    }
  }
  // The popup is opened now, inside the click, so that browsers allow it.
  const popup = window.open("about:blank", "navi-oauth", "width=520,height=680");
  const body = { clientId: values.clientId || "", clientSecret: values.clientSecret || "", fields, ...scope };
  if (offered.length) body.services = services;
  const { status, document } = await api("POST", `api/credentials/${doc.id}/oauth`, body);
  if (status !== 200) {
    if (popup) popup.close();
    throw new Error(document.message || "the sign-in could not start");
  }
  $("connect-dialog").close();
  if (!document.authorizationUrl) { // every service asked for was already granted
    if (popup) popup.close();
    announce(`${doc.name} is already connected`);
    await refresh(doc.id);
    return;
  }
  if (popup) popup.location = document.authorizationUrl;
  else window.location.assign(document.authorizationUrl); // popups blocked: go there instead
  announce(`Finish signing in to ${doc.name} in the popup`);
}

// The popup's last page (GET /oauth/callback) posts its outcome here, same origin only.
window.addEventListener("message", async (event) => {
  const data = event.data;
  if (event.origin !== window.location.origin || !data || data.type !== "navi-oauth") return;
  if (!data.ok) {
    showProblem(`Sign-in failed: ${data.message}`);
    return;
  }
  showProblem("");
  announce(data.message);
  if (data.provider) await refresh(data.provider);
});

$("connect-form").addEventListener("submit", submitConnect);

// -- the project selector: a known project opens at once (and stays in the URL); "New
// project id…" asks for one, checked here by its pattern and by the server as the CLI checks.

function chooseProject(id) {
  const url = new URL(window.location.href);
  url.search = id ? `?project=${encodeURIComponent(id)}` : "";
  window.location.assign(url.toString());
}

$("project-select").addEventListener("change", (event) => {
  const value = event.target.value;
  const field = $("project-new-field");
  field.hidden = value !== "__new__";
  if (value === "__new__") $("project-new").focus();
  else chooseProject(value);
});

$("project-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const select = $("project-select");
  if (select.value !== "__new__") return chooseProject(select.value);
  const typed = $("project-new");
  typed.value = typed.value.trim();
  if (!typed.value || !typed.checkValidity()) {
    typed.reportValidity();
    return;
  }
  chooseProject(typed.value);
});
$("connect-cancel").addEventListener("click", () => $("connect-dialog").close());

// -- live updates ------------------------------------------------------------------------

function follow() {
  const source = new EventSource(`api/events${query}`);
  source.addEventListener("status", (event) => update(JSON.parse(event.data)));
  source.addEventListener("ready", () => document.body.setAttribute("data-live", "yes"));
  source.onerror = () => document.body.setAttribute("data-live", "no");
}

await load();
follow();
