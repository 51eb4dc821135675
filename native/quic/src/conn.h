// One server-side QUIC connection over ngtcp2, driven sans-IO from JavaScript: datagrams go in with
// recv(), packets come out of write_packet(), the timer deadline is read with expiry_ms(). Stream data
// ngtcp2 hands over in callbacks is buffered here until JavaScript reads it, and stream data
// JavaScript writes is copied here because ngtcp2 keeps referring to it until it is acknowledged.
#pragma once
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <sys/socket.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tls.h"

namespace ferry {

class Endpoint;

/** Transport parameters and limits of one engine configuration (RFC 9000 §18.2). */
struct EngineSettings {
  uint64_t idle_timeout_ms = 30000;
  size_t max_udp_payload = 1350;
  uint64_t initial_max_data = 0;
  uint64_t initial_max_stream_data_bidi_local = 0;
  uint64_t initial_max_stream_data_bidi_remote = 0;
  uint64_t initial_max_stream_data_uni = 0;
  uint64_t initial_max_streams_bidi = 0;
  uint64_t initial_max_streams_uni = 0;
  uint64_t max_stream_window = 0;
  uint64_t max_connection_window = 0;
  size_t dgram_recv_queue = 0;
  size_t dgram_send_queue = 0;
  std::shared_ptr<TlsContext> tls;
};

struct Stream {
  explicit Stream(int64_t id);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  int64_t id;
  // Receive side.
  std::deque<std::vector<uint8_t>> rchunks;
  size_t rhead = 0;  // bytes of rchunks.front() already read
  size_t rbytes = 0;
  bool fin_recv = false;
  bool reset_recv = false;
  uint64_t reset_code = 0;
  bool recv_done = false;  // JS saw FIN or the reset, or there is no receive side
  bool in_readable = false;
  // Send side: bytes from s_base (first byte of schunks.front()) to s_total; s_sent of them went out.
  std::deque<std::vector<uint8_t>> schunks;
  uint64_t s_base = 0;
  uint64_t s_acked = 0;
  uint64_t s_sent = 0;
  uint64_t s_total = 0;
  bool fin_req = false;
  bool fin_sent = false;
  bool write_shut = false;
  bool stopped = false;
  uint64_t stop_code = 0;
  bool blocked = false;
  bool in_sendq = false;
  bool closed = false;  // ngtcp2 closed it
};

enum class ClosedBy { None, Local, Peer, Idle };

/** Result codes of stream_send besides a byte count. */
constexpr int64_t kSendBlocked = -1;
constexpr int64_t kSendStopped = -2;
constexpr int64_t kSendState = -3;
constexpr int64_t kSendLimit = -4;
/** Result codes of stream_recv besides a byte count (same values as engine.ts). */
constexpr int64_t kRecvDone = -1;
constexpr int64_t kRecvReset = -2;
constexpr int64_t kRecvGone = -3;

class Conn {
 public:
  Conn(std::shared_ptr<EngineSettings> settings, const uint8_t* scid, size_t scidlen, const uint8_t* odcid,
       size_t odcidlen, const sockaddr_storage& local, socklen_t locallen, const sockaddr_storage& remote,
       socklen_t remotelen);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  /** Frees the ngtcp2 connection, TLS session and buffers now (the close outcome stays readable). */
  void release();
  void set_remote(const sockaddr_storage& remote, socklen_t len);
  bool recv(const uint8_t* data, size_t len);
  /** Next packet into out (0: nothing to send now). */
  size_t write_packet(uint8_t* out, size_t outlen);
  /** ms until on_timeout, or -1. */
  double expiry_ms() const;
  void on_timeout();

  int64_t stream_recv(int64_t id, uint8_t* buf, size_t len, bool* fin, uint64_t* reset_code);
  int64_t stream_send(int64_t id, const uint8_t* data, size_t len, bool fin, uint64_t* code);
  void stream_shutdown(int64_t id, bool read, uint64_t code);
  bool stream_readable(int64_t id) const;
  bool is_readable() const { return !readable_.empty(); }
  const std::vector<int64_t>& readable() const { return readable_; }
  uint64_t streams_left(bool bidi) const;

  bool dgram_send(const uint8_t* data, size_t len);
  bool dgram_recv(std::vector<uint8_t>* out);
  size_t dgram_max_writable() const;

  void close(bool is_app, uint64_t code, const std::string& reason);
  bool is_established() const;
  bool is_closing() const { return close_pending_ || closed_; }
  bool is_closed() const { return closed_; }
  ClosedBy closed_by() const { return closed_by_; }
  bool close_is_app() const { return close_is_app_; }
  uint64_t close_code() const { return close_code_; }
  const std::string& close_reason() const { return close_reason_; }
  /** Connection ids issued since the last call (the router must learn them, RFC 9000 §5.1). */
  std::vector<std::vector<uint8_t>> take_new_cids();

  uint64_t packets_sent = 0, packets_recv = 0, bytes_sent = 0, bytes_recv = 0;

  // Set while a socket-owning Endpoint routes datagrams to this connection (endpoint.cc).
  Endpoint* endpoint = nullptr;
  int32_t handle = -1;
  bool touched = false;
  std::vector<std::string> route_keys;
  const sockaddr_storage& remote() const { return remote_; }
  socklen_t remote_len() const { return remotelen_; }
  bool same_remote(const sockaddr_storage& addr, socklen_t len) const;
  double rtt_ms() const;
  std::string last_error;

  // ngtcp2 callbacks (static trampolines live in conn.cc).
  ngtcp2_conn* conn() const { return conn_; }
  int on_stream_data(uint32_t flags, int64_t id, const uint8_t* data, size_t len);
  int on_stream_open(int64_t id);
  int on_stream_close(int64_t id);
  int on_stream_reset(int64_t id, uint64_t code);
  int on_stop_sending(int64_t id, uint64_t code);
  int on_acked(int64_t id, uint64_t datalen);
  int on_extend_stream(int64_t id);
  int on_datagram(const uint8_t* data, size_t len);
  int on_new_cid(ngtcp2_cid* cid, uint8_t* token, size_t cidlen);

 private:
  bool init(const ngtcp2_pkt_hd& hd);
  bool handle_read_error(int rv);
  Stream* find(int64_t id) const;
  Stream* create(int64_t id);
  Stream* open_local(int64_t id, int64_t* err);
  Stream* pick_send();
  size_t sent(ngtcp2_ssize n, uint64_t ts);
  void start_close(bool is_app, uint64_t code, const std::string& reason);
  void drop_unread(Stream* s);
  void flush_extend();
  void mark_readable(Stream* s);
  void unmark_readable(Stream* s);
  void maybe_erase(Stream* s);
  void enqueue_send(Stream* s);
  void advance(Stream* s, ngtcp2_ssize n, bool fin);
  size_t write_close(uint8_t* out, size_t outlen);
  void fail(int liberr);
  void path(ngtcp2_path* p);

  std::shared_ptr<EngineSettings> settings_;
  ngtcp2_conn* conn_ = nullptr;
  gnutls_session_t session_ = nullptr;
  ngtcp2_crypto_conn_ref conn_ref_{};
  ngtcp2_cid scid_{};
  ngtcp2_cid odcid_{};
  bool has_odcid_ = false;
  size_t client_cid_len_ = 0;
  sockaddr_storage local_{};
  socklen_t locallen_ = 0;
  sockaddr_storage remote_{};
  socklen_t remotelen_ = 0;
  std::unordered_map<int64_t, Stream*> streams_;
  std::vector<int64_t> readable_;
  std::deque<int64_t> sendq_;
  std::deque<std::vector<uint8_t>> dgram_in_;
  std::deque<std::vector<uint8_t>> dgram_out_;
  std::vector<std::vector<uint8_t>> new_cids_;
  int64_t next_local_bidi_ = 1;
  int64_t next_local_uni_ = 3;
  /** Connection-level credit for bytes dropped unread, returned outside ngtcp2 callbacks. */
  uint64_t pending_extend_ = 0;
  ngtcp2_connection_close_error ccerr_{};
  std::string ccerr_reason_;
  /** Datagrams read since our last packet, and until when an acknowledgement is held (kAckHold). */
  uint32_t rx_since_tx_ = 0;
  uint64_t hold_until_ = 0;
  uint64_t last_rx_ts_ = 0;
  bool close_pending_ = false;
  bool close_sent_ = false;
  bool closed_ = false;
  ClosedBy closed_by_ = ClosedBy::None;
  bool close_is_app_ = false;
  uint64_t close_code_ = 0;
  std::string close_reason_;
};

uint64_t now_ns();

/** What the addon holds right now, for leak tests: live ngtcp2 connections, TLS sessions, streams and
 * the bytes ngtcp2 has allocated (through a counting allocator). */
struct NativeCounters {
  int64_t conns = 0;
  int64_t sessions = 0;
  int64_t streams = 0;
  int64_t ngtcp2_bytes = 0;
  int64_t sockets = 0;
};
const NativeCounters& native_counters();
NativeCounters& native_counters_mut();

}  // namespace ferry
