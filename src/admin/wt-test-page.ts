/**
 * The WebTransport test page served by the admin port at `/wt-test`: plain HTML with one inline module
 * script that loads only the node's own SDK bundle, so it works offline. Browsers expose WebTransport
 * only in a secure context, and `http://127.0.0.1:<admin port>/` is one (a CDP `about:blank` page is not).
 *
 * The script fetches `/webtransport/cert-hashes`, connects with `serverCertificateHashes`, and speaks
 * Ferry frames (docs/protocol.md) through the frame codec of the client SDK's browser bundle, which the
 * admin port serves at `/client/ferry-client.js` (as for the demo page): no second codec to keep in step
 * with frame.proto. It drives WebTransport itself rather than through the SDK client, so that it can send
 * any frame, in any order, on the stream or as a datagram. It serves two audiences: a person (the form
 * below), and the browser tests, which drive `window.ferryWt` by name (test/browser/webtransport.test.ts).
 *
 * The script avoids backquotes and dollar-brace so it can live in this template literal unescaped.
 */
export const WT_TEST_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Ferry WebTransport test</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 2em; max-width: 60em; }
  input { margin: 0 0.5em 0.5em 0; }
  pre { background: #f4f4f4; padding: 1em; min-height: 10em; white-space: pre-wrap; }
</style>
</head>
<body>
<h1>Ferry WebTransport test</h1>
<p id="support"></p>
<form id="login">
  <label>Token <input id="token" size="60" placeholder="npx ferry token --user alice"></label>
  <button>Connect</button>
</form>
<form id="send">
  <label>To user <input id="to" size="12"></label>
  <label>Text <input id="text" size="30"></label>
  <label><input id="ephemeral" type="checkbox"> ephemeral (datagram)</label>
  <button>Send</button>
</form>
<pre id="log"></pre>
<script type="module">
import { decodeFrame, encodeFrame, encodeFramePrefixed, StreamFrameReader } from '/client/ferry-client.js';
(function () {
  /** Frames from the server may be this large (the SDK's own ceiling); the server's limit is lower. */
  var MAX_FRAME_BYTES = 16 * 1024 * 1024;
  var enc = new TextEncoder();
  var dec = new TextDecoder();

  /**
   * What the page's callers pass: a frame like FrameInit whose payloads may be text. The SDK codec
   * takes bytes for a bytes field (a string would be read as base64), so text payloads are encoded here.
   */
  function toInit(frame) {
    var out = {};
    Object.keys(frame).forEach(function (key) {
      var v = frame[key];
      if (v === null || typeof v !== 'object' || v instanceof Uint8Array) { out[key] = v; return; }
      var body = {};
      Object.keys(v).forEach(function (field) {
        body[field] = field === 'payload' && typeof v[field] === 'string' ? enc.encode(v[field]) : v[field];
      });
      out[key] = body;
    });
    return out;
  }
  /** A decoded frame as callers see it: { id, body: <body name>, <body name>: fields }, payloads as text. */
  function plain(frame) {
    var name = frame.body || '', fields = {}, b = name ? frame[name] : null;
    if (b) Object.keys(b).forEach(function (key) {
      var v = b[key];
      fields[key] = v instanceof Uint8Array ? dec.decode(v) : v;
    });
    var out = { id: frame.id || 0, body: name };
    if (name) out[name] = fields;
    return out;
  }
  function decodePlain(bytes) {
    return plain(decodeFrame(bytes, MAX_FRAME_BYTES));
  }
  function base64Bytes(b64) {
    var s = atob(b64), out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }

  // --- one client: a WebTransport session with its frame stream and datagrams ---
  function Client(transport, onEvent) {
    this.transport = transport; this.frames = []; this.datagrams = []; this.waiters = [];
    this.closeInfo = null; this.nextId = 1; this.onEvent = onEvent || function () {};
  }
  Client.prototype.start = async function () {
    var self = this;
    this.transport.closed.then(function (info) {
      self.closeInfo = { closeCode: info.closeCode, reason: info.reason };
      self.onEvent('closed', self.closeInfo); self.wake();
    }, function (err) {
      self.closeInfo = { error: String(err && err.message || err) };
      self.onEvent('closed', self.closeInfo); self.wake();
    });
    var stream = await this.transport.createBidirectionalStream();
    this.writer = stream.writable.getWriter();
    this.dgWriter = this.transport.datagrams.writable.getWriter();
    this.readFrames(stream.readable.getReader());
    this.readDatagrams(this.transport.datagrams.readable.getReader());
  };
  Client.prototype.readFrames = async function (reader) {
    var self = this, frames = new StreamFrameReader(MAX_FRAME_BYTES);
    try {
      for (;;) {
        var r = await reader.read();
        if (r.done) {
          // The server finished the frame stream after its Disconnect frame: answer with our FIN so
          // it closes the session now (docs/protocol.md 2.3) rather than after its linger.
          this.writer.close().catch(function () {});
          return;
        }
        frames.push(r.value, function (body) { self.push(self.frames, decodePlain(body)); });
      }
    } catch (e) { /* the session ended, or a frame was malformed; closeInfo says how */ }
  };
  Client.prototype.readDatagrams = async function (reader) {
    try {
      for (;;) {
        var r = await reader.read();
        if (r.done) return;
        this.push(this.datagrams, decodePlain(r.value));
      }
    } catch (e) { /* the session ended */ }
  };
  Client.prototype.push = function (list, frame) {
    if (frame.body === 'ping') this.send({ id: frame.id, pong: { timestampMs: frame.ping.timestampMs } });
    list.push(frame); this.onEvent(list === this.frames ? 'frame' : 'datagram', frame); this.wake();
  };
  Client.prototype.wake = function () {
    var waiters = this.waiters; this.waiters = [];
    waiters.forEach(function (w) { w(); });
  };
  Client.prototype.send = function (frame) {
    if (!frame.id) frame.id = this.nextId++;
    this.writer.write(encodeFramePrefixed(toInit(frame))).catch(function () {});
    return frame.id;
  };
  Client.prototype.sendDatagram = function (frame) {
    this.dgWriter.write(encodeFrame(toInit(frame))).catch(function () {});
  };
  /** Resolves with the first frame in list (taking it) for which pred holds; rejects after timeoutMs. */
  Client.prototype.take = function (list, pred, timeoutMs) {
    var self = this;
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () { reject(new Error('timed out; have ' + list.map(function (f) { return f.body; }).join(','))); }, timeoutMs || 5000);
      (function check() {
        var i = list.findIndex(pred);
        if (i >= 0) { clearTimeout(timer); resolve(list.splice(i, 1)[0]); return; }
        self.waiters.push(check);
      })();
    });
  };
  Client.prototype.waitClosed = function (timeoutMs) {
    var self = this;
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () { reject(new Error('not closed')); }, timeoutMs || 5000);
      (function check() {
        if (self.closeInfo) { clearTimeout(timer); resolve(self.closeInfo); return; }
        self.waiters.push(check);
      })();
    });
  };

  var clients = {};
  async function certInfo() {
    var res = await fetch('/webtransport/cert-hashes', { cache: 'no-store' });
    return res.json();
  }
  window.ferryWt = {
    encodeFrame: function (frame) { return encodeFrame(toInit(frame)); },
    decodeFrame: decodePlain,
    certInfo: certInfo,
    /** Opens a session (and, with a token, authenticates). Resolves { ok, authResult | disconnect | error }. */
    connect: async function (name, opts) {
      opts = opts || {};
      var info = await certInfo();
      var url = opts.url || info.url;
      var options = info.hashes.length === 0 ? {} : { serverCertificateHashes: info.hashes.map(function (h) {
        return { algorithm: h.algorithm, value: base64Bytes(h.value) };
      }) };
      var transport;
      try {
        transport = new WebTransport(url, options);
        await transport.ready;
      } catch (e) {
        return { ok: false, error: String(e && e.message || e) };
      }
      var client = new Client(transport, opts.onEvent);
      clients[name] = client;
      await client.start();
      if (!opts.token) return { ok: true };
      client.send({ authenticate: { token: opts.token, deviceId: opts.deviceId || '', client: 'wt-test-page' } });
      var f = await client.take(client.frames, function (x) { return x.body === 'authResult' || x.body === 'disconnect'; });
      return f.body === 'authResult' ? { ok: true, authResult: f.authResult } : { ok: false, disconnect: f.disconnect };
    },
    send: function (name, frame) { return clients[name].send(frame); },
    sendDatagram: function (name, frame) { clients[name].sendDatagram(frame); },
    next: function (name, body, timeoutMs) {
      var c = clients[name];
      return c.take(c.frames, function (f) { return f.body === body; }, timeoutMs);
    },
    nextDatagram: function (name, timeoutMs) {
      var c = clients[name];
      return c.take(c.datagrams, function () { return true; }, timeoutMs);
    },
    waitClosed: function (name, timeoutMs) { return clients[name].waitClosed(timeoutMs); },
    close: function (name, code, reason) { clients[name].transport.close({ closeCode: code || 0, reason: reason || '' }); }
  };

  // --- the form, for people ---
  var log = document.getElementById('log');
  function say(line) { log.textContent += line + '\\n'; }
  document.getElementById('support').textContent = typeof WebTransport === 'function'
    ? 'WebTransport is available.' : 'This browser (or this page, if it is not a secure context) has no WebTransport.';
  function show(kind, data) {
    say(kind + ' ' + JSON.stringify(data));
    // QoS-1 deliveries are acked once shown (docs/protocol.md: cumulative Ack by seq).
    if (kind === 'frame' && data.body === 'deliver' && data.deliver.seq && !data.deliver.topic) {
      window.ferryWt.send('demo', { ack: { seq: data.deliver.seq } });
    }
  }
  document.getElementById('login').addEventListener('submit', async function (ev) {
    ev.preventDefault();
    var r = await window.ferryWt.connect('demo', { token: document.getElementById('token').value, onEvent: show });
    show('connect', r);
  });
  document.getElementById('send').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var body = { toUser: document.getElementById('to').value, payload: document.getElementById('text').value };
    if (document.getElementById('ephemeral').checked) {
      body.ephemeral = true;
      window.ferryWt.sendDatagram('demo', { send: body });
    } else {
      body.qos = 1; body.clientMsgId = 'web-' + Date.now();
      window.ferryWt.send('demo', { send: body });
    }
  });
})();
</script>
</body>
</html>
`;
