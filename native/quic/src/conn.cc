// See conn.h. Error handling follows ngtcp2's examples/server.cc: any read or write error other than
// the documented per-stream ones closes the connection with CONNECTION_CLOSE.
#include "conn.h"

#include <netinet/in.h>

#include <gnutls/crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "endpoint.h"

namespace ferry {

/** Bytes a stream may hold unacknowledged here (what JS wrote and the peer has not acked yet). */
constexpr uint64_t kStreamSendCap = 1024 * 1024;
/** Small writes are appended to the previous chunk up to this size (fewer allocations, fewer iovecs). */
constexpr size_t kCoalesceBytes = 16 * 1024;
constexpr size_t kMaxVecs = 16;
/**
 * How long an acknowledgement with nothing else to send is held back, hoping to ride on the next
 * application packet (RFC 9000 §13.2.1 allows delaying up to max_ack_delay, 25 ms by default). ngtcp2
 * 0.12 delays by min(max_ack_delay, smoothed RTT / 8), i.e. microseconds on a LAN or loopback, so
 * with a message every few ms per connection almost every message cost an ACK-only packet of its
 * own. Kept well under the peer's probe timeout (smoothed RTT + 4 x RTT variance + 25 ms).
 */
constexpr uint64_t kAckHold = 10 * NGTCP2_MILLISECONDS;
/** Datagrams closer together than this are a transfer in progress: their ACKs are never held. */
constexpr uint64_t kInteractiveGap = 2 * NGTCP2_MILLISECONDS;

static NativeCounters counters;

const NativeCounters& native_counters() { return counters; }
NativeCounters& native_counters_mut() { return counters; }

Stream::Stream(int64_t id) : id(id) { counters.streams++; }
Stream::~Stream() { counters.streams--; }

namespace {
// ngtcp2's allocations, counted: a size header in front of each block (16 bytes keeps alignment).
constexpr size_t kHeader = 16;
void* mem_malloc(size_t size, void*) {
  auto* p = static_cast<uint8_t*>(std::malloc(size + kHeader));
  if (p == nullptr) return nullptr;
  *reinterpret_cast<size_t*>(p) = size;
  counters.ngtcp2_bytes += static_cast<int64_t>(size);
  return p + kHeader;
}
void mem_free(void* ptr, void*) {
  if (ptr == nullptr) return;
  uint8_t* p = static_cast<uint8_t*>(ptr) - kHeader;
  counters.ngtcp2_bytes -= static_cast<int64_t>(*reinterpret_cast<size_t*>(p));
  std::free(p);
}
void* mem_calloc(size_t n, size_t size, void* ud) {
  if (size != 0 && n > SIZE_MAX / size) return nullptr;
  void* p = mem_malloc(n * size, ud);
  if (p != nullptr) std::memset(p, 0, n * size);
  return p;
}
void* mem_realloc(void* ptr, size_t size, void* ud) {
  if (ptr == nullptr) return mem_malloc(size, ud);
  uint8_t* old = static_cast<uint8_t*>(ptr) - kHeader;
  size_t old_size = *reinterpret_cast<size_t*>(old);
  auto* p = static_cast<uint8_t*>(std::realloc(old, size + kHeader));
  if (p == nullptr) return nullptr;
  *reinterpret_cast<size_t*>(p) = size;
  counters.ngtcp2_bytes += static_cast<int64_t>(size) - static_cast<int64_t>(old_size);
  return p + kHeader;
}
const ngtcp2_mem kCountingMem{nullptr, mem_malloc, mem_free, mem_calloc, mem_realloc};
}  // namespace

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * NGTCP2_SECONDS + static_cast<uint64_t>(ts.tv_nsec);
}

static bool is_local(int64_t id) { return (id & 1) == 1; }  // RFC 9000 §2.1: server-initiated
static bool is_uni(int64_t id) { return (id & 2) == 2; }

namespace {

Conn* self(void* user_data) { return static_cast<Conn*>(user_data); }

int cb_recv_stream_data(ngtcp2_conn*, uint32_t flags, int64_t id, uint64_t, const uint8_t* data, size_t len,
                        void* ud, void*) {
  return self(ud)->on_stream_data(flags, id, data, len);
}
int cb_stream_open(ngtcp2_conn*, int64_t id, void* ud) { return self(ud)->on_stream_open(id); }
int cb_stream_close(ngtcp2_conn*, uint32_t, int64_t id, uint64_t, void* ud, void*) {
  return self(ud)->on_stream_close(id);
}
int cb_stream_reset(ngtcp2_conn*, int64_t id, uint64_t, uint64_t code, void* ud, void*) {
  return self(ud)->on_stream_reset(id, code);
}
int cb_stop_sending(ngtcp2_conn*, int64_t id, uint64_t code, void* ud, void*) {
  return self(ud)->on_stop_sending(id, code);
}
int cb_acked(ngtcp2_conn*, int64_t id, uint64_t, uint64_t datalen, void* ud, void*) {
  return self(ud)->on_acked(id, datalen);
}
int cb_extend_stream(ngtcp2_conn*, int64_t id, uint64_t, void* ud, void*) { return self(ud)->on_extend_stream(id); }
int cb_datagram(ngtcp2_conn*, uint32_t, const uint8_t* data, size_t len, void* ud) {
  return self(ud)->on_datagram(data, len);
}
int cb_new_cid(ngtcp2_conn*, ngtcp2_cid* cid, uint8_t* token, size_t cidlen, void* ud) {
  return self(ud)->on_new_cid(cid, token, cidlen);
}
void cb_rand(uint8_t* dest, size_t len, const ngtcp2_rand_ctx*) { gnutls_rnd(GNUTLS_RND_RANDOM, dest, len); }
ngtcp2_conn* cb_get_conn(ngtcp2_crypto_conn_ref* ref) { return self(ref->user_data)->conn(); }

}  // namespace

Conn::Conn(std::shared_ptr<EngineSettings> settings, const uint8_t* scid, size_t scidlen, const uint8_t* odcid,
           size_t odcidlen, const sockaddr_storage& local, socklen_t locallen, const sockaddr_storage& remote,
           socklen_t remotelen)
    : settings_(std::move(settings)), local_(local), locallen_(locallen), remote_(remote), remotelen_(remotelen) {
  ngtcp2_cid_init(&scid_, scid, scidlen);
  if (odcid != nullptr) {
    ngtcp2_cid_init(&odcid_, odcid, odcidlen);
    has_odcid_ = true;
  }
  conn_ref_.get_conn = cb_get_conn;
  conn_ref_.user_data = this;
}

Conn::~Conn() {
  if (endpoint != nullptr) endpoint->detach(this);
  release();
}

bool Conn::same_remote(const sockaddr_storage& addr, socklen_t len) const {
  if (len != remotelen_ || addr.ss_family != remote_.ss_family) return false;
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    auto* b = reinterpret_cast<const sockaddr_in*>(&remote_);
    return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
  }
  auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
  auto* b = reinterpret_cast<const sockaddr_in6*>(&remote_);
  return a->sin6_port == b->sin6_port && std::memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0;
}

void Conn::release() {
  for (auto& entry : streams_) delete entry.second;
  streams_.clear();
  readable_.clear();
  sendq_.clear();
  dgram_in_.clear();
  dgram_out_.clear();
  if (conn_ != nullptr) {
    ngtcp2_conn_del(conn_);
    counters.conns--;
  }
  conn_ = nullptr;
  if (session_ != nullptr) {
    gnutls_deinit(session_);
    counters.sessions--;
  }
  session_ = nullptr;
}

void Conn::path(ngtcp2_path* p) {
  p->local.addr = reinterpret_cast<ngtcp2_sockaddr*>(&local_);
  p->local.addrlen = locallen_;
  p->remote.addr = reinterpret_cast<ngtcp2_sockaddr*>(&remote_);
  p->remote.addrlen = remotelen_;
  p->user_data = nullptr;
}

void Conn::set_remote(const sockaddr_storage& remote, socklen_t len) {
  remote_ = remote;
  remotelen_ = len;
}

bool Conn::init(const ngtcp2_pkt_hd& hd) {
  ngtcp2_callbacks cb{};
  cb.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
  cb.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
  cb.encrypt = ngtcp2_crypto_encrypt_cb;
  cb.decrypt = ngtcp2_crypto_decrypt_cb;
  cb.hp_mask = ngtcp2_crypto_hp_mask_cb;
  cb.update_key = ngtcp2_crypto_update_key_cb;
  cb.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
  cb.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
  cb.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
  cb.version_negotiation = ngtcp2_crypto_version_negotiation_cb;
  cb.recv_stream_data = cb_recv_stream_data;
  cb.stream_open = cb_stream_open;
  cb.stream_close = cb_stream_close;
  cb.stream_reset = cb_stream_reset;
  cb.stream_stop_sending = cb_stop_sending;
  cb.acked_stream_data_offset = cb_acked;
  cb.extend_max_stream_data = cb_extend_stream;
  cb.recv_datagram = cb_datagram;
  cb.get_new_connection_id = cb_new_cid;
  cb.rand = cb_rand;

  const EngineSettings& es = *settings_;
  ngtcp2_settings s;
  ngtcp2_settings_default(&s);
  s.initial_ts = now_ns();
  s.cc_algo = NGTCP2_CC_ALGO_CUBIC;
  // No path MTU discovery (RFC 8899): we send at most max_udp_payload (1350) anyway, as the quiche
  // engine does, so probes would only add packets.
  s.no_pmtud = 1;
  s.max_tx_udp_payload_size = es.max_udp_payload;
  s.max_window = es.max_connection_window;
  s.max_stream_window = es.max_stream_window;
  // An abandoned handshake must not hold state longer than an idle connection would.
  s.handshake_timeout = es.idle_timeout_ms * NGTCP2_MILLISECONDS;

  ngtcp2_transport_params p;
  ngtcp2_transport_params_default(&p);
  p.initial_max_data = es.initial_max_data;
  p.initial_max_stream_data_bidi_local = es.initial_max_stream_data_bidi_local;
  p.initial_max_stream_data_bidi_remote = es.initial_max_stream_data_bidi_remote;
  p.initial_max_stream_data_uni = es.initial_max_stream_data_uni;
  p.initial_max_streams_bidi = es.initial_max_streams_bidi;
  p.initial_max_streams_uni = es.initial_max_streams_uni;
  p.max_idle_timeout = es.idle_timeout_ms * NGTCP2_MILLISECONDS;
  // A socket-owned connection reads into fixed receive slots; larger datagrams would be dropped.
  p.max_udp_payload_size = endpoint != nullptr ? Endpoint::kSlot : 65527;
  // RFC 9221 §3: the largest DATAGRAM frame we accept.
  p.max_datagram_frame_size = es.dgram_recv_queue > 0 ? 65535 : 0;
  p.disable_active_migration = 1;
  if (has_odcid_) {
    // RFC 9000 §7.3: after a Retry, original_destination_connection_id is the client's first choice
    // and retry_source_connection_id the id the Retry carried (the client's current destination).
    p.original_dcid = odcid_;
    p.retry_scid = hd.dcid;
    p.retry_scid_present = 1;
  } else {
    p.original_dcid = hd.dcid;
  }
  client_cid_len_ = hd.scid.datalen;

  ngtcp2_path ps;
  path(&ps);
  int rv = ngtcp2_conn_server_new(&conn_, &hd.scid, &scid_, &ps, hd.version, &cb, &s, &p, &kCountingMem, this);
  if (rv != 0) {
    last_error = ngtcp2_strerror(rv);
    conn_ = nullptr;
    return false;
  }
  counters.conns++;
  session_ = es.tls->new_server_session(&conn_ref_, &last_error);
  if (session_ == nullptr) {
    ngtcp2_conn_del(conn_);
    counters.conns--;
    conn_ = nullptr;
    return false;
  }
  counters.sessions++;
  ngtcp2_conn_set_tls_native_handle(conn_, session_);
  return true;
}

bool Conn::recv(const uint8_t* data, size_t len) {
  if (closed_ || close_pending_) return false;
  if (conn_ == nullptr) {
    ngtcp2_pkt_hd hd;
    if (ngtcp2_accept(&hd, data, len) != 0) return false;
    if (!init(hd)) {
      closed_ = true;
      closed_by_ = ClosedBy::Local;
      close_reason_ = last_error;
      return false;
    }
  }
  packets_recv++;
  bytes_recv += len;
  ngtcp2_path p;
  path(&p);
  ngtcp2_pkt_info pi{};
  uint64_t ts = now_ns();
  bool was_established = ngtcp2_conn_get_handshake_completed(conn_) != 0;
  int rv = ngtcp2_conn_read_pkt(conn_, &p, &pi, data, len, ts);
  flush_extend();
  if (rv == 0) {
    // One datagram since our last packet, and nothing of ours to send: hold the acknowledgement (see
    // kAckHold). A second datagram sends it at once, as RFC 9000 §13.2.2 asks for every second
    // ack-eliciting packet, which keeps bulk uploads at full speed.
    // Only between messages, not inside a stream of packets (an upload): there the sender's window
    // waits for our acknowledgements.
    uint64_t gap = ts - last_rx_ts_;
    last_rx_ts_ = ts;
    if (++rx_since_tx_ == 1 && was_established && sendq_.empty() && dgram_out_.empty() &&
        gap >= kInteractiveGap) {
      hold_until_ = ts + kAckHold;
    } else {
      hold_until_ = 0;
    }
    return true;
  }
  bool ok = handle_read_error(rv);
  // A connection that has ended frees its ngtcp2 and TLS state at once, whoever drives it.
  if (closed_) release();
  return ok;
}

bool Conn::handle_read_error(int rv) {
  switch (rv) {
    case NGTCP2_ERR_DRAINING: {
      // RFC 9000 §10.2.2: the peer closed; nothing more may be sent.
      ngtcp2_connection_close_error cc;
      ngtcp2_conn_get_connection_close_error(conn_, &cc);
      closed_ = true;
      closed_by_ = ClosedBy::Peer;
      close_is_app_ = cc.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION;
      close_code_ = cc.error_code;
      close_reason_.assign(reinterpret_cast<const char*>(cc.reason), cc.reason == nullptr ? 0 : cc.reasonlen);
      return true;
    }
    case NGTCP2_ERR_DROP_CONN:
    case NGTCP2_ERR_RETRY:
      closed_ = true;
      closed_by_ = ClosedBy::Local;
      close_reason_ = ngtcp2_strerror(rv);
      return false;
    case NGTCP2_ERR_CRYPTO:
      if (!close_pending_) {
        ngtcp2_connection_close_error_set_transport_error_tls_alert(&ccerr_, ngtcp2_conn_get_tls_alert(conn_),
                                                                    nullptr, 0);
        start_close(false, ccerr_.error_code, "tls handshake failed");
      }
      return false;
    case NGTCP2_ERR_INVALID_ARGUMENT:
    case NGTCP2_ERR_DISCARD_PKT:
      // A datagram ngtcp2 could not even frame (e.g. a coalesced packet cut short): RFC 9000 §12.2
      // lets the receiver drop it; closing would hand anyone who can spoof the address a kill switch.
      return false;
    default:
      fail(rv);
      return false;
  }
}

void Conn::fail(int liberr) {
  if (close_pending_ || closed_) return;
  ngtcp2_connection_close_error_set_transport_error_liberr(&ccerr_, liberr, nullptr, 0);
  start_close(false, ccerr_.error_code, ngtcp2_strerror(liberr));
}

void Conn::start_close(bool is_app, uint64_t code, const std::string& reason) {
  close_pending_ = true;
  closed_by_ = ClosedBy::Local;
  close_is_app_ = is_app;
  close_code_ = code;
  close_reason_ = reason;
}

void Conn::close(bool is_app, uint64_t code, const std::string& reason) {
  if (close_pending_ || closed_) return;
  ccerr_reason_ = reason;
  const uint8_t* r = reinterpret_cast<const uint8_t*>(ccerr_reason_.data());
  if (is_app) {
    ngtcp2_connection_close_error_set_application_error(&ccerr_, code, r, ccerr_reason_.size());
  } else {
    ngtcp2_connection_close_error_set_transport_error(&ccerr_, code, r, ccerr_reason_.size());
  }
  start_close(is_app, code, reason);
}

size_t Conn::write_close(uint8_t* out, size_t outlen) {
  close_sent_ = true;
  closed_ = true;
  if (conn_ == nullptr) return 0;
  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  ngtcp2_pkt_info pi;
  ngtcp2_ssize n = ngtcp2_conn_write_connection_close(conn_, &ps.path, &pi, out, outlen, &ccerr_, now_ns());
  // The packet is in `out` already: the connection's state can go now (RFC 9000 §10.2.1 lets a
  // closing endpoint keep only what it needs to repeat the close; we do not repeat it).
  release();
  if (n <= 0) return 0;
  packets_sent++;
  bytes_sent += n;
  return static_cast<size_t>(n);
}

static bool has_pending(const Stream* s) { return s->s_sent < s->s_total || (s->fin_req && !s->fin_sent); }

void Conn::enqueue_send(Stream* s) {
  if (s->in_sendq || s->blocked || !has_pending(s)) return;
  s->in_sendq = true;
  sendq_.push_back(s->id);
}

Stream* Conn::pick_send() {
  while (!sendq_.empty()) {
    Stream* s = find(sendq_.front());
    if (s != nullptr && !s->write_shut && !s->stopped && !s->closed && !s->blocked && has_pending(s)) return s;
    if (s != nullptr) s->in_sendq = false;
    sendq_.pop_front();
  }
  return nullptr;
}

void Conn::advance(Stream* s, ngtcp2_ssize n, bool fin) {
  if (n < 0) return;
  s->s_sent += static_cast<uint64_t>(n);
  if (fin && s->s_sent == s->s_total) s->fin_sent = true;
}

size_t Conn::write_packet(uint8_t* out, size_t outlen) {
  if (closed_) return 0;
  if (close_pending_) return write_close(out, outlen);
  if (conn_ == nullptr) return 0;
  if (hold_until_ != 0) {
    if (sendq_.empty() && dgram_out_.empty() && now_ns() < hold_until_) return 0;
    hold_until_ = 0;
  }
  size_t maxlen = std::min(outlen, settings_->max_udp_payload);
  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  ngtcp2_pkt_info pi{};
  uint64_t ts = now_ns();
  for (;;) {
    if (!dgram_out_.empty() && ngtcp2_conn_get_handshake_completed(conn_)) {
      std::vector<uint8_t>& d = dgram_out_.front();
      ngtcp2_vec v{d.data(), d.size()};
      int accepted = 0;
      ngtcp2_ssize n = ngtcp2_conn_writev_datagram(conn_, &ps.path, &pi, out, maxlen, &accepted,
                                                   NGTCP2_WRITE_DATAGRAM_FLAG_MORE, 0, &v, 1, ts);
      if (accepted || n == NGTCP2_ERR_INVALID_ARGUMENT || n == NGTCP2_ERR_INVALID_STATE) dgram_out_.pop_front();
      if (n == NGTCP2_ERR_WRITE_MORE || n == NGTCP2_ERR_INVALID_ARGUMENT || n == NGTCP2_ERR_INVALID_STATE) continue;
      if (n < 0) {
        fail(static_cast<int>(n));
        return write_close(out, outlen);
      }
      if (n == 0) return 0;
      return sent(n, ts);
    }
    Stream* s = pick_send();
    int64_t sid = -1;
    ngtcp2_vec vecs[kMaxVecs];
    size_t nvec = 0;
    uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
    if (s != nullptr) {
      sid = s->id;
      uint64_t off = s->s_base;
      for (auto& chunk : s->schunks) {
        uint64_t end = off + chunk.size();
        if (end > s->s_sent) {
          size_t start = s->s_sent > off ? static_cast<size_t>(s->s_sent - off) : 0;
          vecs[nvec++] = ngtcp2_vec{chunk.data() + start, chunk.size() - start};
          if (nvec == kMaxVecs) break;
        }
        off = end;
      }
      if (s->fin_req && nvec < kMaxVecs) flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
    }
    ngtcp2_ssize ndatalen = -1;
    ngtcp2_ssize n = ngtcp2_conn_writev_stream(conn_, &ps.path, &pi, out, maxlen, &ndatalen, flags, sid,
                                               nvec == 0 ? nullptr : vecs, nvec, ts);
    if (n < 0) {
      switch (n) {
        case NGTCP2_ERR_STREAM_DATA_BLOCKED:
          s->blocked = true;
          continue;
        case NGTCP2_ERR_STREAM_SHUT_WR:
        case NGTCP2_ERR_STREAM_NOT_FOUND:
          s->write_shut = true;
          continue;
        case NGTCP2_ERR_WRITE_MORE:
          advance(s, ndatalen, (flags & NGTCP2_WRITE_STREAM_FLAG_FIN) != 0);
          continue;
        default:
          fail(static_cast<int>(n));
          return write_close(out, outlen);
      }
    }
    if (s != nullptr) {
      advance(s, ndatalen, (flags & NGTCP2_WRITE_STREAM_FLAG_FIN) != 0);
      // Round robin between streams that still have data after a full packet.
      if (has_pending(s) && sendq_.size() > 1 && sendq_.front() == s->id) {
        sendq_.pop_front();
        sendq_.push_back(s->id);
      }
    }
    if (n == 0) return 0;
    return sent(n, ts);
  }
}

size_t Conn::sent(ngtcp2_ssize n, uint64_t ts) {
  // ngtcp2_conn_update_pkt_tx_time is deliberately not called, which leaves ngtcp2's pacer off (its
  // next_ts stays unset), as quiche's is through @matrixai/quic. With it on, the pacing rate before
  // the first RTT sample comes from the 333 ms initial RTT, and the first application data after the
  // handshake waited ~25 ms for the pacing timer (measured in memory and on loopback). The flow-control
  // caps in defaults.ts bound bursts instead.
  packets_sent++;
  bytes_sent += static_cast<uint64_t>(n);
  // ngtcp2 leaves the ACK out of a data packet written within smoothed RTT / 8 of the datagram it
  // acknowledges, and the next write would then carry it alone. Right after answering something we
  // received, with nothing else queued, that ACK is held too (kAckHold): the next message carries it.
  bool answered = rx_since_tx_ > 0 && sendq_.empty() && dgram_out_.empty() &&
                  ngtcp2_conn_get_handshake_completed(conn_) != 0;
  rx_since_tx_ = 0;
  hold_until_ = answered ? ts + kAckHold : 0;
  return static_cast<size_t>(n);
}

double Conn::expiry_ms() const {
  if (closed_) return -1;
  if (close_pending_) return 0;
  if (conn_ == nullptr) return -1;
  uint64_t expiry = ngtcp2_conn_get_expiry(conn_);
  if (expiry == UINT64_MAX) return -1;
  // While an acknowledgement is held, ngtcp2's own ACK timer (the earliest, microseconds away) must not
  // wake us; other timers move by at most kAckHold.
  if (hold_until_ != 0) expiry = std::max(expiry, hold_until_);
  uint64_t now = now_ns();
  if (expiry <= now) return 0;
  return std::ceil(static_cast<double>(expiry - now) / NGTCP2_MILLISECONDS);
}

void Conn::on_timeout() {
  hold_until_ = 0;
  if (conn_ == nullptr || closed_ || close_pending_) return;
  int rv = ngtcp2_conn_handle_expiry(conn_, now_ns());
  if (rv == 0) return;
  if (rv == NGTCP2_ERR_IDLE_CLOSE || rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
    // RFC 9000 §10.1: idle timeout closes silently.
    closed_ = true;
    closed_by_ = ClosedBy::Idle;
    close_reason_ = rv == NGTCP2_ERR_IDLE_CLOSE ? "idle timeout" : "handshake timeout";
    release();
    return;
  }
  fail(rv);
}

Stream* Conn::find(int64_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second;
}

Stream* Conn::create(int64_t id) {
  Stream* s = new Stream(id);
  // A unidirectional stream has one side only (RFC 9000 §2.1).
  if (is_uni(id)) {
    if (is_local(id)) s->recv_done = true;
    else s->write_shut = true;
  }
  streams_[id] = s;
  return s;
}

void Conn::mark_readable(Stream* s) {
  if (s->in_readable || s->recv_done) return;
  s->in_readable = true;
  readable_.push_back(s->id);
}

void Conn::unmark_readable(Stream* s) {
  if (!s->in_readable) return;
  s->in_readable = false;
  auto it = std::find(readable_.begin(), readable_.end(), s->id);
  if (it != readable_.end()) readable_.erase(it);
}

void Conn::maybe_erase(Stream* s) {
  if (!s->closed || !s->recv_done) return;
  unmark_readable(s);
  streams_.erase(s->id);
  delete s;
}

void Conn::drop_unread(Stream* s) {
  pending_extend_ += s->rbytes;
  s->rchunks.clear();
  s->rhead = 0;
  s->rbytes = 0;
}

void Conn::flush_extend() {
  if (pending_extend_ == 0 || conn_ == nullptr || closed_) return;
  ngtcp2_conn_extend_max_offset(conn_, pending_extend_);
  pending_extend_ = 0;
}

int Conn::on_stream_open(int64_t id) {
  if (find(id) == nullptr) create(id);
  return 0;
}

int Conn::on_stream_data(uint32_t flags, int64_t id, const uint8_t* data, size_t len) {
  Stream* s = find(id);
  if (s == nullptr) s = create(id);
  if (s->recv_done) {
    // Reading was stopped: consume silently so flow control keeps moving.
    pending_extend_ += len;
    return 0;
  }
  if (len > 0) {
    if (!s->rchunks.empty() && s->rchunks.back().size() + len <= kCoalesceBytes) {
      s->rchunks.back().insert(s->rchunks.back().end(), data, data + len);
    } else {
      s->rchunks.emplace_back(data, data + len);
    }
    s->rbytes += len;
  }
  if (flags & NGTCP2_STREAM_DATA_FLAG_FIN) s->fin_recv = true;
  mark_readable(s);
  return 0;
}

int Conn::on_stream_reset(int64_t id, uint64_t code) {
  Stream* s = find(id);
  if (s == nullptr || s->recv_done) return 0;
  s->reset_recv = true;
  s->reset_code = code;
  mark_readable(s);
  return 0;
}

int Conn::on_stop_sending(int64_t id, uint64_t code) {
  Stream* s = find(id);
  if (s == nullptr) return 0;
  s->stopped = true;
  s->stop_code = code;
  return 0;
}

int Conn::on_stream_close(int64_t id) {
  Stream* s = find(id);
  if (s == nullptr) return 0;
  s->closed = true;
  maybe_erase(s);
  return 0;
}

int Conn::on_acked(int64_t id, uint64_t datalen) {
  Stream* s = find(id);
  if (s == nullptr) return 0;
  s->s_acked += datalen;
  while (!s->schunks.empty() && s->s_base + s->schunks.front().size() <= s->s_acked) {
    s->s_base += s->schunks.front().size();
    s->schunks.pop_front();
  }
  return 0;
}

int Conn::on_extend_stream(int64_t id) {
  Stream* s = find(id);
  if (s == nullptr || !s->blocked) return 0;
  s->blocked = false;
  enqueue_send(s);
  return 0;
}

int Conn::on_datagram(const uint8_t* data, size_t len) {
  if (dgram_in_.size() < settings_->dgram_recv_queue) dgram_in_.emplace_back(data, data + len);
  return 0;
}

int Conn::on_new_cid(ngtcp2_cid* cid, uint8_t* token, size_t cidlen) {
  uint8_t buf[NGTCP2_MAX_CIDLEN];
  if (gnutls_rnd(GNUTLS_RND_RANDOM, buf, cidlen) != 0 ||
      gnutls_rnd(GNUTLS_RND_RANDOM, token, NGTCP2_STATELESS_RESET_TOKENLEN) != 0) {
    return NGTCP2_ERR_CALLBACK_FAILURE;
  }
  ngtcp2_cid_init(cid, buf, cidlen);
  new_cids_.emplace_back(buf, buf + cidlen);
  if (endpoint != nullptr) endpoint->route(this, handle, buf, cidlen);
  return 0;
}

std::vector<std::vector<uint8_t>> Conn::take_new_cids() {
  std::vector<std::vector<uint8_t>> out;
  out.swap(new_cids_);
  return out;
}

int64_t Conn::stream_recv(int64_t id, uint8_t* buf, size_t len, bool* fin, uint64_t* reset_code) {
  *fin = false;
  Stream* s = find(id);
  if (s == nullptr || s->recv_done) return kRecvGone;
  if (s->reset_recv) {
    *reset_code = s->reset_code;
    drop_unread(s);
    s->recv_done = true;
    unmark_readable(s);
    maybe_erase(s);
    flush_extend();
    return kRecvReset;
  }
  if (s->rbytes == 0) {
    if (!s->fin_recv) {
      unmark_readable(s);
      return kRecvDone;
    }
    *fin = true;
    s->recv_done = true;
    unmark_readable(s);
    maybe_erase(s);
    return 0;
  }
  size_t n = 0;
  while (n < len && !s->rchunks.empty()) {
    std::vector<uint8_t>& chunk = s->rchunks.front();
    size_t take = std::min(len - n, chunk.size() - s->rhead);
    std::memcpy(buf + n, chunk.data() + s->rhead, take);
    n += take;
    s->rhead += take;
    if (s->rhead == chunk.size()) {
      s->rchunks.pop_front();
      s->rhead = 0;
    }
  }
  s->rbytes -= n;
  if (conn_ != nullptr && !closed_) {
    // RFC 9000 §4.2: credit is returned as the application consumes.
    ngtcp2_conn_extend_max_stream_offset(conn_, id, n);
    ngtcp2_conn_extend_max_offset(conn_, n);
  }
  if (s->rbytes == 0) {
    if (s->fin_recv) {
      *fin = true;
      s->recv_done = true;
      unmark_readable(s);
      maybe_erase(s);
    } else {
      unmark_readable(s);
    }
  }
  return static_cast<int64_t>(n);
}

bool Conn::stream_readable(int64_t id) const {
  Stream* s = find(id);
  return s != nullptr && s->in_readable;
}

Stream* Conn::open_local(int64_t id, int64_t* err) {
  int64_t& next = is_uni(id) ? next_local_uni_ : next_local_bidi_;
  if (id < next) {
    *err = kSendState;  // opened before and already gone
    return nullptr;
  }
  for (;;) {
    int64_t sid = -1;
    int rv = is_uni(id) ? ngtcp2_conn_open_uni_stream(conn_, &sid, nullptr)
                        : ngtcp2_conn_open_bidi_stream(conn_, &sid, nullptr);
    if (rv != 0) {
      *err = rv == NGTCP2_ERR_STREAM_ID_BLOCKED ? kSendLimit : kSendState;
      return nullptr;
    }
    next = sid + 4;
    Stream* s = create(sid);
    if (sid >= id) return sid == id ? s : nullptr;
  }
}

int64_t Conn::stream_send(int64_t id, const uint8_t* data, size_t len, bool fin, uint64_t* code) {
  if (conn_ == nullptr || closed_ || close_pending_ || !ngtcp2_conn_get_handshake_completed(conn_)) return kSendState;
  Stream* s = find(id);
  if (s == nullptr) {
    if (!is_local(id)) return kSendState;
    int64_t err = kSendState;
    s = open_local(id, &err);
    if (s == nullptr) return err;
  }
  if (s->stopped) {
    *code = s->stop_code;
    return kSendStopped;
  }
  if (s->write_shut || s->fin_req || s->closed) return kSendState;
  uint64_t unacked = s->s_total - s->s_acked;
  size_t room = unacked >= kStreamSendCap ? 0 : static_cast<size_t>(kStreamSendCap - unacked);
  size_t n = std::min(len, room);
  if (n == 0 && len > 0) return kSendBlocked;
  if (n > 0) {
    bool appended = false;
    if (!s->schunks.empty()) {
      std::vector<uint8_t>& last = s->schunks.back();
      // ngtcp2 refers to bytes it has sent until they are acked, so only an unsent chunk may grow.
      uint64_t last_start = s->s_total - last.size();
      if (s->s_sent <= last_start && last.size() + n <= kCoalesceBytes) {
        last.insert(last.end(), data, data + n);
        appended = true;
      }
    }
    if (!appended) s->schunks.emplace_back(data, data + n);
    s->s_total += n;
  }
  if (fin && n == len) s->fin_req = true;
  enqueue_send(s);
  return static_cast<int64_t>(n);
}

void Conn::stream_shutdown(int64_t id, bool read, uint64_t code) {
  Stream* s = find(id);
  if (s == nullptr || conn_ == nullptr || closed_ || close_pending_) return;
  // RESET_STREAM / STOP_SENDING wait in ngtcp2, not in our queues: they must not wait for a held ACK.
  hold_until_ = 0;
  if (read) {
    if (s->recv_done) return;
    ngtcp2_conn_shutdown_stream_read(conn_, id, code);
    drop_unread(s);
    s->recv_done = true;
    unmark_readable(s);
    maybe_erase(s);
    flush_extend();
  } else {
    if (s->write_shut) return;
    ngtcp2_conn_shutdown_stream_write(conn_, id, code);
    s->write_shut = true;
  }
}

uint64_t Conn::streams_left(bool bidi) const {
  if (conn_ == nullptr) return 0;
  return bidi ? ngtcp2_conn_get_streams_bidi_left(conn_) : ngtcp2_conn_get_streams_uni_left(conn_);
}

size_t Conn::dgram_max_writable() const {
  if (conn_ == nullptr || closed_ || close_pending_ || !ngtcp2_conn_get_handshake_completed(conn_)) return 0;
  const ngtcp2_transport_params* rp = ngtcp2_conn_get_remote_transport_params(conn_);
  if (rp == nullptr || rp->max_datagram_frame_size <= 3) return 0;
  // Short header (RFC 9000 §17.3.1): flags + DCID + up to 4 packet-number bytes; AEAD tag 16 bytes;
  // DATAGRAM frame type + 2-byte length (RFC 9221 §4).
  size_t overhead = 1 + client_cid_len_ + 4 + 16 + 3;
  size_t pkt = settings_->max_udp_payload > overhead ? settings_->max_udp_payload - overhead : 0;
  size_t frame = static_cast<size_t>(std::min<uint64_t>(rp->max_datagram_frame_size - 3, 65535));
  return std::min(pkt, frame);
}

bool Conn::dgram_send(const uint8_t* data, size_t len) {
  if (len > dgram_max_writable() || dgram_out_.size() >= settings_->dgram_send_queue) return false;
  dgram_out_.emplace_back(data, data + len);
  return true;
}

bool Conn::dgram_recv(std::vector<uint8_t>* out) {
  if (dgram_in_.empty()) return false;
  out->swap(dgram_in_.front());
  dgram_in_.pop_front();
  return true;
}

bool Conn::is_established() const { return conn_ != nullptr && ngtcp2_conn_get_handshake_completed(conn_); }

double Conn::rtt_ms() const {
  if (conn_ == nullptr) return 0;
  ngtcp2_conn_stat cs;
  ngtcp2_conn_get_conn_stat(conn_, &cs);
  return static_cast<double>(cs.smoothed_rtt) / NGTCP2_MILLISECONDS;
}

}  // namespace ferry
