// The end of the OAuth popup: tell the settings page that opened it, then close.
// postMessage names this server's origin, so only a page of this server hears it.
const done = document.querySelector("main.oauth-done");
const message = {
  type: "navi-oauth",
  ok: done.dataset.ok === "yes",
  provider: done.dataset.provider,
  message: done.dataset.message,
};
if (window.opener && !window.opener.closed) {
  window.opener.postMessage(message, window.location.origin);
  window.close();
}
