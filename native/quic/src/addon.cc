// N-API surface of the native QUIC engine: a Connection class (one ngtcp2 server connection) and
// two module functions (createConfig, retry). Results that would otherwise need an object per call
// (a stream read's FIN flag, a reset or stop code) are written into a Float64Array the JS side
// handed over once, so the hot paths return plain numbers.
#include <arpa/inet.h>
#include <node_api.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include <cstring>
#include <vector>
#include <string>

#include "conn.h"
#include "endpoint.h"

namespace ferry {
namespace {

/** Rough native footprint of one connection (ngtcp2 + GnuTLS state), reported to V8's GC. */
constexpr int64_t kConnExternalBytes = 96 * 1024;

#define CHECK(call)                       \
  do {                                    \
    if ((call) != napi_ok) return nullptr; \
  } while (0)

napi_value throw_error(napi_env env, const std::string& message) {
  napi_throw_error(env, "FERRY_QUIC_NATIVE", message.c_str());
  return nullptr;
}

bool get_bytes(napi_env env, napi_value v, uint8_t** data, size_t* len) {
  bool is_typed = false;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return false;
  napi_typedarray_type type;
  void* ptr = nullptr;
  napi_value ab;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, &ab, &offset) != napi_ok) return false;
  if (type != napi_uint8_array) return false;
  *data = static_cast<uint8_t*>(ptr);
  return true;
}

double get_double(napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  return d;
}

bool get_bool(napi_env env, napi_value v) {
  bool b = false;
  napi_get_value_bool(env, v, &b);
  return b;
}

std::string get_string(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) return "";
  std::string s(len, '\0');
  napi_get_value_string_utf8(env, v, &s[0], len + 1, &len);
  return s;
}

bool to_sockaddr(const std::string& host, int port, sockaddr_storage* ss, socklen_t* len) {
  std::memset(ss, 0, sizeof(*ss));
  auto* v4 = reinterpret_cast<sockaddr_in*>(ss);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    *len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(ss);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    *len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

napi_value make_bool(napi_env env, bool b) {
  napi_value v;
  napi_get_boolean(env, b, &v);
  return v;
}

napi_value make_num(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

/** Marks the addon's Connection objects, so a Socket method given another object refuses it. */
const napi_type_tag kConnTag = {0x6665727279717569ULL, 0x636f6e6e65637431ULL};

/** Per-object state: the connection and the shared result array. */
struct Wrap {
  Conn* conn = nullptr;
  double* state = nullptr;  // [0] fin, [1] reset/stop code
  napi_ref state_ref = nullptr;
  bool external_counted = false;
};

template <size_t N>
Wrap* unwrap(napi_env env, napi_callback_info info, napi_value (&argv)[N], size_t* argc) {
  napi_value self;
  *argc = N;
  if (napi_get_cb_info(env, info, argc, argv, &self, nullptr) != napi_ok) return nullptr;
  void* p = nullptr;
  if (napi_unwrap(env, self, &p) != napi_ok) return nullptr;
  return static_cast<Wrap*>(p);
}

void release_wrap(napi_env env, Wrap* w) {
  if (w->conn != nullptr) {
    w->conn->release();
  }
  if (w->external_counted) {
    int64_t adjusted;
    napi_adjust_external_memory(env, -kConnExternalBytes, &adjusted);
    w->external_counted = false;
  }
}

void finalize_wrap(napi_env env, void* data, void*) {
  Wrap* w = static_cast<Wrap*>(data);
  release_wrap(env, w);
  delete w->conn;
  if (w->state_ref != nullptr) napi_delete_reference(env, w->state_ref);
  delete w;
}

void finalize_settings(napi_env, void* data, void*) { delete static_cast<std::shared_ptr<EngineSettings>*>(data); }

// new Connection(config, scid, odcid|null, localHost, localPort, peerHost, peerPort, state: Float64Array)
napi_value conn_new(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  size_t argc = 8;
  napi_value self;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &self, nullptr));
  if (argc < 8) return throw_error(env, "Connection: 8 arguments expected");
  void* cfg = nullptr;
  if (napi_get_value_external(env, argv[0], &cfg) != napi_ok || cfg == nullptr) {
    return throw_error(env, "Connection: config is not a native engine config");
  }
  auto settings = *static_cast<std::shared_ptr<EngineSettings>*>(cfg);
  uint8_t *scid = nullptr, *odcid = nullptr;
  size_t scidlen = 0, odcidlen = 0;
  if (!get_bytes(env, argv[1], &scid, &scidlen) || scidlen == 0 || scidlen > NGTCP2_MAX_CIDLEN) {
    return throw_error(env, "Connection: bad scid");
  }
  napi_valuetype t;
  napi_typeof(env, argv[2], &t);
  if (t != napi_null && (!get_bytes(env, argv[2], &odcid, &odcidlen) || odcidlen > NGTCP2_MAX_CIDLEN)) {
    return throw_error(env, "Connection: bad odcid");
  }
  sockaddr_storage local, remote;
  socklen_t locallen, remotelen;
  if (!to_sockaddr(get_string(env, argv[3]), static_cast<int>(get_double(env, argv[4])), &local, &locallen) ||
      !to_sockaddr(get_string(env, argv[5]), static_cast<int>(get_double(env, argv[6])), &remote, &remotelen)) {
    return throw_error(env, "Connection: addresses must be IP literals");
  }
  bool is_typed = false;
  napi_is_typedarray(env, argv[7], &is_typed);
  napi_typedarray_type type;
  size_t len = 0;
  void* data = nullptr;
  if (!is_typed || napi_get_typedarray_info(env, argv[7], &type, &len, &data, nullptr, nullptr) != napi_ok ||
      type != napi_float64_array || len < 2) {
    return throw_error(env, "Connection: state must be a Float64Array(2)");
  }
  Wrap* w = new Wrap();
  w->conn = new Conn(settings, scid, scidlen, odcid, odcidlen, local, locallen, remote, remotelen);
  w->state = static_cast<double*>(data);
  napi_create_reference(env, argv[7], 1, &w->state_ref);
  if (napi_wrap(env, self, w, finalize_wrap, nullptr, nullptr) != napi_ok) {
    delete w->conn;
    delete w;
    return throw_error(env, "Connection: wrap failed");
  }
  napi_type_tag_object(env, self, &kConnTag);
  int64_t adjusted;
  napi_adjust_external_memory(env, kConnExternalBytes, &adjusted);
  w->external_counted = true;
  return self;
}

#define METHOD(name, nargs)                            \
  napi_value name(napi_env env, napi_callback_info info) { \
    napi_value argv[nargs > 0 ? nargs : 1];            \
    size_t argc = 0;                                   \
    Wrap* w = unwrap(env, info, argv, &argc);          \
    if (w == nullptr) return nullptr;                  \
    Conn* c = w->conn;                                 \
    (void)c;

#define END }

METHOD(m_recv, 1)
  uint8_t* data;
  size_t len;
  if (argc < 1 || !get_bytes(env, argv[0], &data, &len)) return throw_error(env, "recv: Uint8Array expected");
  return make_bool(env, c->recv(data, len));
END

METHOD(m_set_peer, 2)
  sockaddr_storage ss;
  socklen_t len;
  if (argc < 2 || !to_sockaddr(get_string(env, argv[0]), static_cast<int>(get_double(env, argv[1])), &ss, &len)) {
    return throw_error(env, "setPeer: IP literal expected");
  }
  c->set_remote(ss, len);
  return nullptr;
END

METHOD(m_send, 1)
  uint8_t* data;
  size_t len;
  if (argc < 1 || !get_bytes(env, argv[0], &data, &len)) return throw_error(env, "send: Uint8Array expected");
  return make_num(env, static_cast<double>(c->write_packet(data, len)));
END

METHOD(m_timeout, 0)
  return make_num(env, c->expiry_ms());
END

METHOD(m_on_timeout, 0)
  c->on_timeout();
  return nullptr;
END

METHOD(m_stream_recv, 2)
  uint8_t* data;
  size_t len;
  if (argc < 2 || !get_bytes(env, argv[1], &data, &len)) return throw_error(env, "streamRecv: bad arguments");
  bool fin = false;
  uint64_t code = 0;
  int64_t n = c->stream_recv(static_cast<int64_t>(get_double(env, argv[0])), data, len, &fin, &code);
  w->state[0] = fin ? 1 : 0;
  w->state[1] = static_cast<double>(code);
  return make_num(env, static_cast<double>(n));
END

METHOD(m_stream_send, 3)
  uint8_t* data;
  size_t len;
  if (argc < 3 || !get_bytes(env, argv[1], &data, &len)) return throw_error(env, "streamSend: bad arguments");
  uint64_t code = 0;
  int64_t n = c->stream_send(static_cast<int64_t>(get_double(env, argv[0])), data, len, get_bool(env, argv[2]), &code);
  w->state[1] = static_cast<double>(code);
  return make_num(env, static_cast<double>(n));
END

METHOD(m_stream_shutdown, 3)
  if (argc < 3) return throw_error(env, "streamShutdown: bad arguments");
  c->stream_shutdown(static_cast<int64_t>(get_double(env, argv[0])), get_bool(env, argv[1]),
                     static_cast<uint64_t>(get_double(env, argv[2])));
  return nullptr;
END

METHOD(m_stream_readable, 1)
  if (argc < 1) return throw_error(env, "streamReadable: bad arguments");
  return make_bool(env, c->stream_readable(static_cast<int64_t>(get_double(env, argv[0]))));
END

METHOD(m_is_readable, 0)
  return make_bool(env, c->is_readable());
END

METHOD(m_readable, 0)
  const std::vector<int64_t>& ids = c->readable();
  napi_value arr;
  CHECK(napi_create_array_with_length(env, ids.size(), &arr));
  for (size_t i = 0; i < ids.size(); i++) napi_set_element(env, arr, i, make_num(env, static_cast<double>(ids[i])));
  return arr;
END

METHOD(m_streams_left, 1)
  return make_num(env, static_cast<double>(c->streams_left(argc > 0 && get_bool(env, argv[0]))));
END

METHOD(m_dgram_send, 1)
  uint8_t* data;
  size_t len;
  if (argc < 1 || !get_bytes(env, argv[0], &data, &len)) return throw_error(env, "dgramSend: Uint8Array expected");
  return make_bool(env, c->dgram_send(data, len));
END

METHOD(m_dgram_recv, 0)
  std::vector<uint8_t> d;
  napi_value v;
  if (!c->dgram_recv(&d)) {
    napi_get_null(env, &v);
    return v;
  }
  void* out;
  CHECK(napi_create_buffer_copy(env, d.size(), d.data(), &out, &v));
  return v;
END

METHOD(m_dgram_max, 0)
  return make_num(env, static_cast<double>(c->dgram_max_writable()));
END

METHOD(m_close, 3)
  if (argc < 3) return throw_error(env, "close: bad arguments");
  c->close(get_bool(env, argv[0]), static_cast<uint64_t>(get_double(env, argv[1])), get_string(env, argv[2]));
  return nullptr;
END

METHOD(m_is_established, 0)
  return make_bool(env, c->is_established());
END

METHOD(m_is_closing, 0)
  return make_bool(env, c->is_closing());
END

METHOD(m_is_closed, 0)
  return make_bool(env, c->is_closed());
END

METHOD(m_close_info, 0)
  napi_value v;
  if (c->closed_by() == ClosedBy::None) {
    napi_get_null(env, &v);
    return v;
  }
  static const char* by_names[] = {"local", "local", "peer", "idle"};
  CHECK(napi_create_object(env, &v));
  napi_value reason, by;
  napi_create_string_utf8(env, c->close_reason().data(), c->close_reason().size(), &reason);
  napi_create_string_utf8(env, by_names[static_cast<int>(c->closed_by())], NAPI_AUTO_LENGTH, &by);
  napi_set_named_property(env, v, "isApp", make_bool(env, c->close_is_app()));
  napi_set_named_property(env, v, "code", make_num(env, static_cast<double>(c->close_code())));
  napi_set_named_property(env, v, "reason", reason);
  napi_set_named_property(env, v, "by", by);
  return v;
END

METHOD(m_take_new_cids, 0)
  std::vector<std::vector<uint8_t>> cids = c->take_new_cids();
  napi_value arr;
  if (cids.empty()) {
    napi_get_null(env, &arr);
    return arr;
  }
  CHECK(napi_create_array_with_length(env, cids.size(), &arr));
  for (size_t i = 0; i < cids.size(); i++) {
    void* out;
    napi_value b;
    CHECK(napi_create_buffer_copy(env, cids[i].size(), cids[i].data(), &out, &b));
    napi_set_element(env, arr, i, b);
  }
  return arr;
END

METHOD(m_stats, 0)
  napi_value v;
  CHECK(napi_create_object(env, &v));
  napi_set_named_property(env, v, "packetsSent", make_num(env, static_cast<double>(c->packets_sent)));
  napi_set_named_property(env, v, "packetsReceived", make_num(env, static_cast<double>(c->packets_recv)));
  napi_set_named_property(env, v, "packetsLost", make_num(env, 0));
  napi_set_named_property(env, v, "bytesSent", make_num(env, static_cast<double>(c->bytes_sent)));
  napi_set_named_property(env, v, "bytesReceived", make_num(env, static_cast<double>(c->bytes_recv)));
  napi_set_named_property(env, v, "rttMs", make_num(env, c->rtt_ms()));
  return v;
END

METHOD(m_release, 0)
  release_wrap(env, w);
  return nullptr;
END


// ---- Socket: the UDP socket owned by the addon (endpoint.h) ----

std::string addr_host(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, buf, sizeof(buf));
  } else {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof(buf));
  }
  return buf;
}

int addr_port(const sockaddr_storage& ss) {
  return ss.ss_family == AF_INET ? ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port)
                                 : ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
}

struct SocketWrap {
  napi_env env = nullptr;
  Endpoint* ep = nullptr;
  napi_ref self_ref = nullptr;  // the JS object, the receiver of the callbacks
  napi_ref on_datagram = nullptr;
  napi_ref on_input = nullptr;
  napi_ref handles_ref = nullptr;
  int32_t* handles = nullptr;
  size_t handles_len = 0;
  napi_async_context async = nullptr;
  napi_ref close_cb = nullptr;
  /** close() ran and libuv has not released the handle yet: socket_closed still needs this. */
  bool close_pending = false;
  bool finalized = false;
};

/** Calls a JS function from a libuv callback: its own handle scope, microtasks run after it. */
void call_js(SocketWrap* sw, napi_ref fn_ref, size_t argc, napi_value* argv) {
  napi_env env = sw->env;
  napi_value fn, recv, result;
  if (napi_get_reference_value(env, fn_ref, &fn) != napi_ok || fn == nullptr) return;
  if (napi_get_reference_value(env, sw->self_ref, &recv) != napi_ok || recv == nullptr) napi_get_undefined(env, &recv);
  if (napi_make_callback(env, sw->async, recv, fn, argc, argv, &result) == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
}

void sock_on_unrouted(void* ctx, const uint8_t* data, size_t len, const sockaddr_storage& from) {
  auto* sw = static_cast<SocketWrap*>(ctx);
  napi_handle_scope scope;
  if (napi_open_handle_scope(sw->env, &scope) != napi_ok) return;
  napi_value argv[3];
  void* out;
  std::string host = addr_host(from);
  if (napi_create_buffer_copy(sw->env, len, data, &out, &argv[0]) == napi_ok) {
    napi_create_string_utf8(sw->env, host.data(), host.size(), &argv[1]);
    argv[2] = make_num(sw->env, addr_port(from));
    call_js(sw, sw->on_datagram, 3, argv);
  }
  napi_close_handle_scope(sw->env, scope);
}

void sock_on_input(void* ctx, const std::vector<int32_t>& handles) {
  auto* sw = static_cast<SocketWrap*>(ctx);
  napi_handle_scope scope;
  if (napi_open_handle_scope(sw->env, &scope) != napi_ok) return;
  for (size_t at = 0; at < handles.size(); at += sw->handles_len) {
    size_t n = std::min(handles.size() - at, sw->handles_len);
    std::memcpy(sw->handles, handles.data() + at, n * sizeof(int32_t));
    napi_value argv[1] = {make_num(sw->env, static_cast<double>(n))};
    call_js(sw, sw->on_input, 1, argv);
  }
  napi_close_handle_scope(sw->env, scope);
}

void free_socket_refs(napi_env env, SocketWrap* sw) {
  for (napi_ref* r : {&sw->on_datagram, &sw->on_input, &sw->handles_ref, &sw->self_ref, &sw->close_cb}) {
    if (*r != nullptr) napi_delete_reference(env, *r);
    *r = nullptr;
  }
  if (sw->async != nullptr) napi_async_destroy(env, sw->async);
  sw->async = nullptr;
}

void finalize_socket(napi_env env, void* data, void*) {
  auto* sw = static_cast<SocketWrap*>(data);
  if (sw->ep != nullptr) {
    sw->ep->close(nullptr, nullptr);
    delete sw->ep;
    sw->ep = nullptr;
    native_counters_mut().sockets--;
  }
  free_socket_refs(env, sw);
  if (sw->close_pending) {
    sw->finalized = true;  // socket_closed frees it
    return;
  }
  delete sw;
}

SocketWrap* unwrap_socket(napi_env env, napi_callback_info info, napi_value* argv, size_t* argc) {
  napi_value self;
  if (napi_get_cb_info(env, info, argc, argv, &self, nullptr) != napi_ok) return nullptr;
  void* p = nullptr;
  if (napi_unwrap(env, self, &p) != napi_ok) return nullptr;
  return static_cast<SocketWrap*>(p);
}

Conn* conn_arg(napi_env env, napi_value v) {
  bool ok = false;
  if (napi_check_object_type_tag(env, v, &kConnTag, &ok) != napi_ok || !ok) return nullptr;
  void* p = nullptr;
  if (napi_unwrap(env, v, &p) != napi_ok || p == nullptr) return nullptr;
  return static_cast<Wrap*>(p)->conn;
}

// new Socket(host, port, cidLength, bufferBytes, handles: Int32Array, onDatagram, onInput)
napi_value sock_new(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  size_t argc = 7;
  napi_value self;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &self, nullptr));
  if (argc < 7) return throw_error(env, "Socket: 7 arguments expected");
  sockaddr_storage addr;
  socklen_t addrlen;
  if (!to_sockaddr(get_string(env, argv[0]), static_cast<int>(get_double(env, argv[1])), &addr, &addrlen)) {
    return throw_error(env, "Socket: host must be an IP literal");
  }
  size_t cid_len = static_cast<size_t>(get_double(env, argv[2]));
  if (cid_len == 0 || cid_len > NGTCP2_MAX_CIDLEN) return throw_error(env, "Socket: bad cidLength");
  bool is_typed = false;
  napi_is_typedarray(env, argv[4], &is_typed);
  napi_typedarray_type type;
  size_t hlen = 0;
  void* hdata = nullptr;
  if (!is_typed || napi_get_typedarray_info(env, argv[4], &type, &hlen, &hdata, nullptr, nullptr) != napi_ok ||
      type != napi_int32_array || hlen == 0) {
    return throw_error(env, "Socket: handles must be an Int32Array");
  }
  auto* sw = new SocketWrap();
  sw->env = env;
  sw->handles = static_cast<int32_t*>(hdata);
  sw->handles_len = hlen;
  napi_create_reference(env, argv[4], 1, &sw->handles_ref);
  napi_create_reference(env, argv[5], 1, &sw->on_datagram);
  napi_create_reference(env, argv[6], 1, &sw->on_input);
  napi_value resource_name;
  napi_create_string_utf8(env, "FerryQuicSocket", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, self, resource_name, &sw->async);
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  sw->ep = new Endpoint(loop, cid_len, Endpoint::Hooks{sock_on_unrouted, sock_on_input, sw});
  std::string error;
  if (!sw->ep->open(addr, addrlen, static_cast<int>(get_double(env, argv[3])), &error)) {
    delete sw->ep;
    free_socket_refs(env, sw);
    delete sw;
    return throw_error(env, "Socket: " + error);
  }
  native_counters_mut().sockets++;
  if (napi_wrap(env, self, sw, finalize_socket, nullptr, nullptr) != napi_ok) {
    return throw_error(env, "Socket: wrap failed");
  }
  // Weak: the socket object is kept alive by whoever uses it, not by its own callbacks.
  napi_create_reference(env, self, 0, &sw->self_ref);
  return self;
}

#define SOCKET_METHOD(name, nargs)                                  \
  napi_value name(napi_env env, napi_callback_info info) {          \
    napi_value argv[nargs > 0 ? nargs : 1];                         \
    size_t argc = nargs > 0 ? nargs : 1;                            \
    SocketWrap* sw = unwrap_socket(env, info, argv, &argc);         \
    if (sw == nullptr) return nullptr;                              \
    Endpoint* ep = sw->ep;                                          \
    (void)ep;

SOCKET_METHOD(s_address, 0)
  napi_value arr;
  CHECK(napi_create_array_with_length(env, 2, &arr));
  if (ep == nullptr) return arr;
  std::string host = addr_host(ep->local());
  napi_value h;
  napi_create_string_utf8(env, host.data(), host.size(), &h);
  napi_set_element(env, arr, 0, h);
  napi_set_element(env, arr, 1, make_num(env, addr_port(ep->local())));
  return arr;
END

// route(conn, handle, cid)
SOCKET_METHOD(s_route, 3)
  Conn* c = argc >= 3 ? conn_arg(env, argv[0]) : nullptr;
  uint8_t* cid;
  size_t len;
  if (c == nullptr || !get_bytes(env, argv[2], &cid, &len) || len == 0 || len > NGTCP2_MAX_CIDLEN) {
    return throw_error(env, "route: (Connection, handle, cid) expected");
  }
  if (ep != nullptr) ep->route(c, static_cast<int32_t>(get_double(env, argv[1])), cid, len);
  return nullptr;
END

SOCKET_METHOD(s_detach, 1)
  Conn* c = argc >= 1 ? conn_arg(env, argv[0]) : nullptr;
  if (c == nullptr) return throw_error(env, "detach: Connection expected");
  if (ep != nullptr) ep->detach(c);
  return nullptr;
END

SOCKET_METHOD(s_flush, 1)
  Conn* c = argc >= 1 ? conn_arg(env, argv[0]) : nullptr;
  if (c == nullptr) return throw_error(env, "flush: Connection expected");
  return make_num(env, ep == nullptr ? 0 : static_cast<double>(ep->flush(c)));
END

// sendTo(bytes, length, host, port)
SOCKET_METHOD(s_send_to, 4)
  uint8_t* data;
  size_t len;
  sockaddr_storage to;
  socklen_t tolen;
  if (argc < 4 || !get_bytes(env, argv[0], &data, &len) ||
      !to_sockaddr(get_string(env, argv[2]), static_cast<int>(get_double(env, argv[3])), &to, &tolen)) {
    return throw_error(env, "sendTo: (Uint8Array, length, host, port) expected");
  }
  size_t n = std::min(len, static_cast<size_t>(get_double(env, argv[1])));
  return make_bool(env, ep != nullptr && ep->send_raw(data, n, to, tolen));
END

void socket_closed(void* arg) {
  auto* sw = static_cast<SocketWrap*>(arg);
  sw->close_pending = false;
  if (sw->finalized) {
    delete sw;
    return;
  }
  if (sw->close_cb == nullptr) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(sw->env, &scope) != napi_ok) return;
  napi_ref cb = sw->close_cb;
  sw->close_cb = nullptr;
  call_js(sw, cb, 0, nullptr);
  napi_delete_reference(sw->env, cb);
  napi_close_handle_scope(sw->env, scope);
}

// close(callback): the callback runs once the descriptor is closed (the port is free again).
SOCKET_METHOD(s_close, 1)
  if (ep == nullptr) return nullptr;
  if (argc >= 1) {
    napi_valuetype t;
    napi_typeof(env, argv[0], &t);
    if (t == napi_function) napi_create_reference(env, argv[0], 1, &sw->close_cb);
  }
  sw->ep = nullptr;
  native_counters_mut().sockets--;
  sw->close_pending = true;
  ep->close(socket_closed, sw);
  delete ep;
  return nullptr;
END

SOCKET_METHOD(s_stats, 0)
  napi_value v;
  CHECK(napi_create_object(env, &v));
  SocketStats st = ep != nullptr ? ep->stats() : SocketStats{};
  napi_set_named_property(env, v, "readCalls", make_num(env, static_cast<double>(st.read_calls)));
  napi_set_named_property(env, v, "datagramsIn", make_num(env, static_cast<double>(st.datagrams_in)));
  napi_set_named_property(env, v, "routedIn", make_num(env, static_cast<double>(st.routed_in)));
  napi_set_named_property(env, v, "droppedIn", make_num(env, static_cast<double>(st.dropped_in)));
  napi_set_named_property(env, v, "writeCalls", make_num(env, static_cast<double>(st.write_calls)));
  napi_set_named_property(env, v, "datagramsOut", make_num(env, static_cast<double>(st.datagrams_out)));
  napi_set_named_property(env, v, "gsoBatches", make_num(env, static_cast<double>(st.gso_batches)));
  napi_set_named_property(env, v, "sendErrors", make_num(env, static_cast<double>(st.send_errors)));
  return v;
END

// createConfig({certPem, keyPem, alpn, idleTimeoutMs, ...}) -> External
napi_value create_config(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  size_t argc = 1;
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 1) return throw_error(env, "createConfig: options expected");
  auto prop = [&](const char* name) {
    napi_value v = nullptr;
    napi_get_named_property(env, argv[0], name, &v);
    return v;
  };
  auto num = [&](const char* name) { return static_cast<uint64_t>(get_double(env, prop(name))); };
  auto es = std::make_shared<EngineSettings>();
  es->idle_timeout_ms = num("idleTimeoutMs");
  es->max_udp_payload = static_cast<size_t>(num("maxUdpPayloadBytes"));
  es->initial_max_data = num("initialMaxData");
  es->initial_max_stream_data_bidi_local = num("initialMaxStreamDataBidiLocal");
  es->initial_max_stream_data_bidi_remote = num("initialMaxStreamDataBidiRemote");
  es->initial_max_stream_data_uni = num("initialMaxStreamDataUni");
  es->initial_max_streams_bidi = num("initialMaxStreamsBidi");
  es->initial_max_streams_uni = num("initialMaxStreamsUni");
  es->max_stream_window = num("maxStreamWindow");
  es->max_connection_window = num("maxConnectionWindow");
  es->dgram_recv_queue = static_cast<size_t>(num("datagramRecvQueue"));
  es->dgram_send_queue = static_cast<size_t>(num("datagramSendQueue"));
  if (es->max_udp_payload < 1200 || es->max_udp_payload > 65527) {
    return throw_error(env, "createConfig: maxUdpPayloadBytes must be 1200..65527");
  }
  std::string error;
  es->tls = TlsContext::create(get_string(env, prop("certPem")), get_string(env, prop("keyPem")),
                               get_string(env, prop("alpn")), &error);
  if (!es->tls) return throw_error(env, "createConfig: " + error);
  napi_value ext;
  auto* holder = new std::shared_ptr<EngineSettings>(es);
  if (napi_create_external(env, holder, finalize_settings, nullptr, &ext) != napi_ok) {
    delete holder;
    return throw_error(env, "createConfig: external failed");
  }
  return ext;
}

ngtcp2_cid cid_of(const uint8_t* data, size_t len) {
  ngtcp2_cid cid;
  ngtcp2_cid_init(&cid, data, len);
  return cid;
}

// retry(clientScid, clientDcid, newScid, token, version, out) -> length (0 on failure)
napi_value retry(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  size_t argc = 6;
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint8_t *scid, *dcid, *nscid, *token, *out;
  size_t scidlen, dcidlen, nscidlen, tokenlen, outlen;
  if (argc < 6 || !get_bytes(env, argv[0], &scid, &scidlen) || !get_bytes(env, argv[1], &dcid, &dcidlen) ||
      !get_bytes(env, argv[2], &nscid, &nscidlen) || !get_bytes(env, argv[3], &token, &tokenlen) ||
      !get_bytes(env, argv[5], &out, &outlen) || scidlen > NGTCP2_MAX_CIDLEN || dcidlen > NGTCP2_MAX_CIDLEN ||
      nscidlen > NGTCP2_MAX_CIDLEN) {
    return make_num(env, 0);
  }
  ngtcp2_cid client_scid = cid_of(scid, scidlen), odcid = cid_of(dcid, dcidlen), new_scid = cid_of(nscid, nscidlen);
  // The Retry goes to the client's source id, from our new id; odcid feeds the integrity tag (RFC 9001 §5.8).
  ngtcp2_ssize n = ngtcp2_crypto_write_retry(out, outlen, static_cast<uint32_t>(get_double(env, argv[4])),
                                             &client_scid, &new_scid, &odcid, token, tokenlen);
  return make_num(env, n > 0 ? static_cast<double>(n) : 0);
}

// counters() -> {conns, sessions, streams, ngtcp2Bytes}
napi_value counters(napi_env env, napi_callback_info) {
  const NativeCounters& c = native_counters();
  napi_value v;
  CHECK(napi_create_object(env, &v));
  napi_set_named_property(env, v, "conns", make_num(env, static_cast<double>(c.conns)));
  napi_set_named_property(env, v, "sessions", make_num(env, static_cast<double>(c.sessions)));
  napi_set_named_property(env, v, "streams", make_num(env, static_cast<double>(c.streams)));
  napi_set_named_property(env, v, "ngtcp2Bytes", make_num(env, static_cast<double>(c.ngtcp2_bytes)));
  napi_set_named_property(env, v, "sockets", make_num(env, static_cast<double>(c.sockets)));
  return v;
}

napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor socket_methods[] = {
      {"address", nullptr, s_address, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"route", nullptr, s_route, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"detach", nullptr, s_detach, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"flush", nullptr, s_flush, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sendTo", nullptr, s_send_to, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"close", nullptr, s_close, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"stats", nullptr, s_stats, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_value socket_cls;
  CHECK(napi_define_class(env, "Socket", NAPI_AUTO_LENGTH, sock_new, nullptr,
                          sizeof(socket_methods) / sizeof(socket_methods[0]), socket_methods, &socket_cls));
  napi_set_named_property(env, exports, "Socket", socket_cls);
  napi_property_descriptor methods[] = {
      {"recv", nullptr, m_recv, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setPeer", nullptr, m_set_peer, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"send", nullptr, m_send, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"timeout", nullptr, m_timeout, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"onTimeout", nullptr, m_on_timeout, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"streamRecv", nullptr, m_stream_recv, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"streamSend", nullptr, m_stream_send, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"streamShutdown", nullptr, m_stream_shutdown, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"streamReadable", nullptr, m_stream_readable, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"isReadable", nullptr, m_is_readable, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"readable", nullptr, m_readable, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"streamsLeft", nullptr, m_streams_left, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"dgramSend", nullptr, m_dgram_send, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"dgramRecv", nullptr, m_dgram_recv, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"dgramMaxWritableLen", nullptr, m_dgram_max, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"close", nullptr, m_close, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"isEstablished", nullptr, m_is_established, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"isClosing", nullptr, m_is_closing, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"isClosed", nullptr, m_is_closed, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"closeInfo", nullptr, m_close_info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"takeNewCids", nullptr, m_take_new_cids, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"stats", nullptr, m_stats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"release", nullptr, m_release, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_value cls;
  CHECK(napi_define_class(env, "Connection", NAPI_AUTO_LENGTH, conn_new, nullptr,
                          sizeof(methods) / sizeof(methods[0]), methods, &cls));
  napi_set_named_property(env, exports, "Connection", cls);
  napi_value fn;
  CHECK(napi_create_function(env, "createConfig", NAPI_AUTO_LENGTH, create_config, nullptr, &fn));
  napi_set_named_property(env, exports, "createConfig", fn);
  CHECK(napi_create_function(env, "retry", NAPI_AUTO_LENGTH, retry, nullptr, &fn));
  napi_set_named_property(env, exports, "retry", fn);
  CHECK(napi_create_function(env, "counters", NAPI_AUTO_LENGTH, counters, nullptr, &fn));
  napi_set_named_property(env, exports, "counters", fn);
  return exports;
}

}  // namespace
}  // namespace ferry

NAPI_MODULE(NODE_GYP_MODULE_NAME, ferry::init)
