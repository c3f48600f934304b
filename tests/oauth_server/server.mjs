// Runs oauth2-mock-server (a real OAuth 2.0 / OIDC authorization server: PKCE,
// refresh-token rotation, signed tokens) on 127.0.0.1 for the Python tests.
//
// The OAuth behaviour is the library's. This file only adds test plumbing:
// the userinfo email, and a control endpoint (POST /__control) through which a
// test asks for the next token responses to fail (invalid_grant, 5xx), for the
// token endpoint to be slow, or for the next consent to be denied, and reads
// how many token requests of each grant type arrived.
import http from 'node:http';
import { OAuth2Issuer, OAuth2Service } from 'oauth2-mock-server';

const issuer = new OAuth2Issuer();
await issuer.keys.generate('RS256');
const service = new OAuth2Service(issuer);

const control = { faults: [], delayMs: 0, deny: 0, counts: {}, email: 'johndoe@example.com' };

service.on('beforeResponse', (response, req) => {
  const grant = req.body.grant_type;
  control.counts[grant] = (control.counts[grant] ?? 0) + 1;
  if (control.faults[0] === 'invalid_grant') {
    control.faults.shift();
    response.statusCode = 400;
    response.body = { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' };
  }
});
service.on('beforeUserinfo', (response) => {
  response.body.email = control.email;
  response.body.email_verified = true;
});
service.on('beforeAuthorizeRedirect', (redirect) => {
  if (control.deny > 0) {
    control.deny -= 1;
    redirect.url.searchParams.delete('code');
    redirect.url.searchParams.set('error', 'access_denied');
  }
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, 'http://127.0.0.1').pathname;
  if (path === '/__control') {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const change = raw ? JSON.parse(raw) : {};
    if (change.reset) Object.assign(control, { faults: [], delayMs: 0, deny: 0, counts: {} });
    if (change.faults) control.faults.push(...change.faults);
    if (change.delayMs !== undefined) control.delayMs = change.delayMs;
    if (change.deny !== undefined) control.deny = change.deny;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ counts: control.counts }));
    return;
  }
  if (path === '/token' && control.delayMs > 0) await sleep(control.delayMs);
  if (path === '/token' && typeof control.faults[0] === 'number') {
    // A 5xx from in front of the server (a proxy or load balancer): the request
    // never reaches the OAuth logic, so an authorization code stays unused.
    const status = control.faults.shift();
    control.counts[`http_${status}`] = (control.counts[`http_${status}`] ?? 0) + 1;
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: 'server_error' }));
    return;
  }
  service.requestHandler(req, res);
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  issuer.url = `http://127.0.0.1:${server.address().port}`;
  process.stdout.write(JSON.stringify({ url: issuer.url }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
