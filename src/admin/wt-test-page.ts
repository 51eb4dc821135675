/**
 * The WebTransport test page served by the admin port at `/wt-test`: plain HTML with one inline script
 * and no external resources, so it works offline. Browsers expose WebTransport only in a secure
 * context, and `http://127.0.0.1:<admin port>/` is one (a CDP `about:blank` page is not).
 *
 * The script fetches `/webtransport/cert-hashes`, connects with `serverCertificateHashes`, and speaks
 * Ferry frames (docs/protocol.md) through a hand-written protobuf writer/reader for the bodies a client
 * needs: the page must not depend on a bundler. It serves two audiences: a person (the form below), and
 * the browser tests, which drive `window.ferryWt` by name (see test/browser/webtransport.test.ts).
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
<script>
'use strict';
(function () {
  var BODIES = { 10: 'authenticate', 11: 'authResult', 12: 'send', 13: 'sendAck', 14: 'deliver', 15: 'ack',
    16: 'ping', 17: 'pong', 18: 'subscribe', 19: 'unsubscribe', 20: 'publish', 21: 'presenceQuery',
    22: 'presenceResult', 23: 'reply', 24: 'error', 25: 'disconnect' };
  // Field name: [number, kind]; kinds: s string, b bytes, u unsigned varint, o bool.
  var MSG = { s: 's', b: 'b', u: 'u', o: 'o' };
  var FIELDS = {
    authenticate: { token: [1, MSG.s], deviceId: [2, MSG.s], lastSeq: [3, MSG.u], client: [4, MSG.s] },
    authResult: { userId: [1, MSG.s], deviceId: [2, MSG.s], sessionId: [3, MSG.s], nodeId: [4, MSG.s],
      heartbeatMs: [5, MSG.u], idleTimeoutMs: [6, MSG.u], maxFrameBytes: [7, MSG.u], ackedSeq: [8, MSG.u],
      expiresAtMs: [9, MSG.u] },
    send: { toUser: [1, MSG.s], payload: [2, MSG.b], qos: [3, MSG.u], clientMsgId: [4, MSG.s], ephemeral: [5, MSG.o] },
    sendAck: { clientMsgId: [1, MSG.s], serverId: [2, MSG.s], seq: [3, MSG.u], timestampMs: [4, MSG.u],
      duplicate: [5, MSG.o] },
    deliver: { serverId: [1, MSG.s], seq: [2, MSG.u], fromUser: [3, MSG.s], fromDevice: [4, MSG.s], topic: [5, MSG.s],
      payload: [6, MSG.b], timestampMs: [7, MSG.u], qos: [8, MSG.u], clientMsgId: [9, MSG.s], ephemeral: [10, MSG.o],
      fromService: [11, MSG.s] },
    ack: { seq: [1, MSG.u] },
    ping: { timestampMs: [1, MSG.u] },
    pong: { timestampMs: [1, MSG.u] },
    subscribe: { topic: [1, MSG.s], sinceSeq: [2, MSG.u] },
    unsubscribe: { topic: [1, MSG.s] },
    publish: { topic: [1, MSG.s], payload: [2, MSG.b], qos: [3, MSG.u], clientMsgId: [4, MSG.s], ephemeral: [5, MSG.o] },
    reply: { topicSeq: [1, MSG.u] },
    error: { code: [1, MSG.u], message: [2, MSG.s], retryable: [3, MSG.o], retryAfterMs: [4, MSG.u] },
    disconnect: { code: [1, MSG.u], reason: [2, MSG.s], reconnect: [3, MSG.o], reconnectDelayMs: [4, MSG.u],
      reconnectUrl: [5, MSG.s] }
  };
  var enc = new TextEncoder();
  var dec = new TextDecoder();

  // --- protobuf writer: proto3, so default values are omitted, but a body is always written ---
  function varint(out, n) {
    while (n >= 128) { out.push((n % 128) | 128); n = Math.floor(n / 128); }
    out.push(n);
  }
  function lengthDelimited(out, field, bytes) {
    varint(out, field * 8 + 2); varint(out, bytes.length);
    for (var i = 0; i < bytes.length; i++) out.push(bytes[i]);
  }
  function encodeMessage(name, obj) {
    var out = [], spec = FIELDS[name];
    Object.keys(spec).forEach(function (key) {
      var v = obj[key], f = spec[key][0], kind = spec[key][1];
      if (v === undefined || v === null || v === '' || v === 0 || v === false) return;
      if (kind === MSG.s) lengthDelimited(out, f, enc.encode(v));
      else if (kind === MSG.b) lengthDelimited(out, f, typeof v === 'string' ? enc.encode(v) : v);
      else { varint(out, f * 8); varint(out, kind === MSG.o ? 1 : v); }
    });
    return out;
  }
  function encodeFrame(frame) {
    var out = [];
    if (frame.id) { varint(out, 8); varint(out, frame.id); }
    Object.keys(BODIES).forEach(function (num) {
      var name = BODIES[num];
      if (frame[name]) lengthDelimited(out, Number(num), encodeMessage(name, frame[name]));
    });
    return new Uint8Array(out);
  }

  // --- protobuf reader: unknown fields are skipped ---
  function fields(buf) {
    var pos = 0, list = [];
    function readVarint() {
      var n = 0, mul = 1, b;
      do { b = buf[pos++]; n += (b & 127) * mul; mul *= 128; } while (b & 128);
      return n;
    }
    while (pos < buf.length) {
      var tag = readVarint(), f = Math.floor(tag / 8), wt = tag % 8, v;
      if (wt === 0) v = readVarint();
      else if (wt === 2) { var len = readVarint(); v = buf.subarray(pos, pos + len); pos += len; }
      else if (wt === 1) { pos += 8; continue; }
      else if (wt === 5) { pos += 4; continue; }
      else throw new Error('bad wire type ' + wt);
      list.push([f, v]);
    }
    return list;
  }
  function decodeMessage(name, buf) {
    var spec = FIELDS[name] || {}, byNum = {}, obj = {};
    Object.keys(spec).forEach(function (key) { byNum[spec[key][0]] = [key, spec[key][1]]; });
    fields(buf).forEach(function (fv) {
      var s = byNum[fv[0]];
      if (!s) return;
      obj[s[0]] = s[1] === MSG.s ? dec.decode(fv[1]) : s[1] === MSG.b ? dec.decode(fv[1]) : s[1] === MSG.o ? fv[1] !== 0 : fv[1];
    });
    return obj;
  }
  function decodeFrame(buf) {
    var frame = { id: 0, body: '' };
    fields(buf).forEach(function (fv) {
      if (fv[0] === 1) frame.id = fv[1];
      else if (BODIES[fv[0]]) { frame.body = BODIES[fv[0]]; frame[frame.body] = decodeMessage(frame.body, fv[1]); }
    });
    return frame;
  }
  function prefixed(body) {
    var out = new Uint8Array(4 + body.length);
    new DataView(out.buffer).setUint32(0, body.length);
    out.set(body, 4);
    return out;
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
    var buf = new Uint8Array(0);
    try {
      for (;;) {
        var r = await reader.read();
        if (r.done) {
          // The server finished the frame stream after its Disconnect frame: answer with our FIN so
          // it closes the session now (docs/protocol.md 2.3) rather than after its linger.
          this.writer.close().catch(function () {});
          return;
        }
        var joined = new Uint8Array(buf.length + r.value.length);
        joined.set(buf); joined.set(r.value, buf.length); buf = joined;
        while (buf.length >= 4) {
          var len = new DataView(buf.buffer, buf.byteOffset).getUint32(0);
          if (buf.length < 4 + len) break;
          this.push(this.frames, decodeFrame(buf.subarray(4, 4 + len)));
          buf = buf.slice(4 + len);
        }
      }
    } catch (e) { /* the session ended; closeInfo says how */ }
  };
  Client.prototype.readDatagrams = async function (reader) {
    try {
      for (;;) {
        var r = await reader.read();
        if (r.done) return;
        this.push(this.datagrams, decodeFrame(r.value));
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
    this.writer.write(prefixed(encodeFrame(frame))).catch(function () {});
    return frame.id;
  };
  Client.prototype.sendDatagram = function (frame) {
    this.dgWriter.write(encodeFrame(frame)).catch(function () {});
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
    encodeFrame: encodeFrame,
    decodeFrame: decodeFrame,
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
