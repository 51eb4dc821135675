/**
 * The SDK demo page served at `/demo` (src/admin/demo-routes.ts): pick a user, connect through the
 * client SDK bundle (`/client/ferry-client.js`: WebTransport first, WebSocket fallback), and chat with
 * another tab, seeing the transport in use, delivery acks and their latency. Served from the admin
 * origin, so `http://127.0.0.1:<admin port>` is a secure context and WebTransport is available.
 *
 * `POST /demo/token` needs the admin key like every mutating admin route: the node's banner prints
 * `/demo#key=<admin key>`, and the page reads the key from the URL fragment (which the browser never
 * sends, so it reaches no server log) and sends it as `Authorization: Bearer`.
 *
 * `window.ferryDemo` exposes the page's state to the browser tests (test/browser/client-demo.test.ts).
 * The script avoids backquotes and dollar-brace so it can live in this template literal unescaped.
 */
export const DEMO_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Ferry demo</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 1.5em; max-width: 52em; color: #222; }
  fieldset { border: 1px solid #ccc; border-radius: 6px; margin-bottom: 1em; }
  input, select, button { font: inherit; margin: 0 0.4em 0.4em 0; }
  #status span { display: inline-block; margin-right: 1.2em; }
  .badge { padding: 0.1em 0.5em; border-radius: 4px; background: #eee; font-weight: 600; }
  .open { background: #c8f0c8; } .closed { background: #f6c6c6; } .connecting, .reconnecting { background: #f8e6a8; }
  #log { list-style: none; padding: 0; border: 1px solid #ddd; border-radius: 6px; min-height: 12em; }
  #log li { padding: 0.35em 0.7em; border-bottom: 1px solid #f0f0f0; }
  #log li.in { background: #f3f8ff; } #log li.sys { color: #777; font-style: italic; }
  .meta { color: #777; font-size: 12px; margin-left: 0.6em; }
  .ack { color: #1a7f37; }
</style>
</head>
<body>
<h1>Ferry demo</h1>
<p>Open this page in two tabs, log in as two users and chat. Tokens come from the node's dev-only
<code>POST /demo/token</code>; the SDK picks WebTransport and falls back to WebSocket.</p>
<fieldset>
  <legend>Login</legend>
  <label>Admin key <input id="adminKey" type="password" size="24" autocomplete="off"
    title="The node prints this page's URL with the key after #key= (or see the Admin key line of its banner)"></label><br>
  <label>User <input id="user" value="alice" size="12" list="users"></label>
  <datalist id="users"><option value="alice"><option value="bob"><option value="carol"></datalist>
  <label><input type="checkbox" id="wsOnly"> WebSocket only</label>
  <button id="connect">Connect</button> <button id="disconnect" disabled>Disconnect</button>
</fieldset>
<div id="status">
  <span>State <b id="state" class="badge closed">idle</b></span>
  <span>Transport <b id="transport" class="badge">-</b></span>
  <span>Node <b id="node">-</b></span>
  <span>Device <b id="device">-</b></span>
</div>
<fieldset>
  <legend>Chat</legend>
  <form id="chat">
    <label>To <input id="to" value="bob" size="12" list="users"></label>
    <input id="text" size="40" placeholder="message" autocomplete="off">
    <button>Send</button>
    <button type="button" id="presence">Who is online?</button>
  </form>
</fieldset>
<ul id="log"></ul>
<script type="module">
import { createClient } from '/client/ferry-client.js';

const $ = (id) => document.getElementById(id);
const state = { client: null, messages: [], acks: [], transports: [], info: null, errors: [] };
window.ferryDemo = state;

let tabId = sessionStorage.getItem('ferry-demo-tab');
if (!tabId) {
  tabId = 'tab-' + Math.random().toString(36).slice(2, 8);
  sessionStorage.setItem('ferry-demo-tab', tabId);
}
// The banner's URL carries the admin key in the fragment (#key=...), never sent to any server.
$('adminKey').value = new URLSearchParams(location.hash.slice(1)).get('key') || '';
const config = await (await fetch('/demo/config')).json();
if (!config.tokens) log('sys', 'Demo tokens are disabled on this node: ' + config.tokensDisabledReason);

function log(kind, text, meta) {
  const li = document.createElement('li');
  li.className = kind;
  li.textContent = text;
  if (meta) {
    const m = document.createElement('span');
    m.className = 'meta';
    m.textContent = meta;
    li.appendChild(m);
    li.metaEl = m;
  }
  $('log').prepend(li);
  return li;
}

function setState(s) {
  $('state').textContent = s;
  $('state').className = 'badge ' + s;
}

async function certHashes() {
  const res = await fetch(config.certHashes);
  const body = await res.json();
  return body.hashes.map((h) => h.value);
}

async function connect(user, opts) {
  opts = opts || {};
  if (state.client) await state.client.close();
  const device = opts.device || tabId;
  $('user').value = user;
  const endpoints = {};
  if (config.wt && !opts.wsOnly) endpoints.wt = config.wt;
  if (config.ws) endpoints.ws = config.ws;
  const client = createClient({
    endpoints,
    deviceId: device,
    clientName: 'ferry-demo',
    certHashes: config.certHashes ? certHashes : undefined,
    transportTimeoutMs: opts.transportTimeoutMs || 3000,
    getToken: async () => {
      const res = await fetch('/demo/token', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ' + $('adminKey').value.trim() },
        body: JSON.stringify({ user: user, device: device }),
      });
      const body = await res.json();
      if (res.status === 401) throw new Error(body.error + ': open the Demo URL the node printed (it ends in #key=...)');
      if (!res.ok) throw new Error(body.error);
      return body.token;
    },
  });
  state.client = client;
  client.on('state', (e) => setState(e.state));
  client.on('transport', (t) => {
    state.transports.push(t);
    if (!t.ok) log('sys', 'Transport ' + t.kind + ' unavailable: ' + t.error);
  });
  client.on('open', (info) => {
    state.info = info;
    $('transport').textContent = info.transport === 'wt' ? 'WebTransport' : info.transport === 'ws' ? 'WebSocket' : info.transport;
    $('node').textContent = info.nodeId;
    $('device').textContent = info.deviceId;
    log('sys', 'Connected as ' + info.userId + ' over ' + $('transport').textContent);
  });
  client.on('disconnect', (d) => log('sys', 'Disconnected ' + d.code + ' ' + d.reason + (d.willReconnect ? ', reconnecting in ' + d.delayMs + ' ms' : '')));
  client.on('error', (e) => state.errors.push(e.message));
  client.on('message', (m) => {
    const text = new TextDecoder().decode(m.payload);
    state.messages.push({ from: m.from, text: text, seq: m.seq, qos: m.qos });
    const latency = m.timestampMs ? Math.max(0, Date.now() - m.timestampMs) : 0;
    log('in', m.from + ': ' + text, 'seq ' + m.seq + (m.qos ? ', QoS 1' : '') + ', ' + latency + ' ms after send');
  });
  $('connect').disabled = true;
  $('disconnect').disabled = false;
  await client.start();
  return state.info;
}

async function send(to, text) {
  const li = log('out', 'to ' + to + ': ' + text, 'sending...');
  const ack = await state.client.send(to, text, { qos: 1 });
  state.acks.push(ack);
  li.metaEl.textContent = 'acked, seq ' + ack.seq + ' in ' + ack.latencyMs + ' ms' + (ack.duplicate ? ' (duplicate)' : '');
  li.metaEl.className = 'meta ack';
  return ack;
}

state.connect = connect;
state.send = send;

$('connect').onclick = () => {
  connect($('user').value.trim(), { wsOnly: $('wsOnly').checked }).catch((e) => log('sys', 'Connect failed: ' + e.message));
};
$('disconnect').onclick = async () => {
  if (state.client) await state.client.close();
  state.client = null;
  $('connect').disabled = false;
  $('disconnect').disabled = true;
};
$('chat').onsubmit = (ev) => {
  ev.preventDefault();
  const text = $('text').value;
  if (!state.client || !text) return;
  $('text').value = '';
  send($('to').value.trim(), text).catch((e) => log('sys', 'Send failed: ' + e.message));
};
$('presence').onclick = async () => {
  if (!state.client) return;
  const users = await state.client.presence(['alice', 'bob', 'carol']);
  log('sys', users.map((u) => u.userId + (u.online ? ' online (' + u.devices.map((d) => d.transport).join(', ') + ')' : ' offline')).join('; '));
};
state.ready = true;
</script>
</body>
</html>
`;
