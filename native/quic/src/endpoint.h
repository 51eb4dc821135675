// The server's UDP socket, owned by the addon: a non-blocking socket polled by libuv (uv_poll_t on
// Node's own loop), read with recvmmsg and written with sendmmsg (UDP GSO where the kernel takes it).
// Datagrams for a connection the socket knows (by destination connection id) go straight into that
// connection in C; JavaScript hears once per readiness event which connections got input, and sees
// only the datagrams no connection claimed (new connections, Version Negotiation, garbage).
#pragma once
#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace ferry {

class Conn;

/** Counters of one socket (benchmarks and tests). */
struct SocketStats {
  uint64_t read_calls = 0;     // recvmmsg calls that returned datagrams
  uint64_t datagrams_in = 0;   // datagrams read
  uint64_t routed_in = 0;      // of those, fed to a connection in C
  uint64_t dropped_in = 0;     // short header for no connection, or too large for a receive slot
  uint64_t write_calls = 0;    // sendmmsg / sendmsg calls
  uint64_t datagrams_out = 0;  // datagrams handed to the kernel
  uint64_t gso_batches = 0;    // sendmsg calls that carried several packets in one UDP_SEGMENT buffer
  uint64_t send_errors = 0;    // datagrams the kernel refused (dropped: QUIC's loss recovery resends)
};

class Endpoint {
 public:
  /** Receive slot size: larger datagrams are dropped (we advertise this as max_udp_payload_size). */
  static constexpr size_t kSlot = 2048;

  struct Hooks {
    /** A datagram no connection claimed. */
    void (*on_unrouted)(void* ctx, const uint8_t* data, size_t len, const sockaddr_storage& from);
    /** The read pass ended; `handles` are the connections that got input (each once). */
    void (*on_input)(void* ctx, const std::vector<int32_t>& handles);
    void* ctx;
  };

  Endpoint(uv_loop_t* loop, size_t cid_len, Hooks hooks);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  /** Binds and starts reading; false with `error` set on failure. */
  bool open(const sockaddr_storage& addr, socklen_t len, int bufsize, std::string* error);
  /** Stops reading and closes the socket; `done` runs once libuv released the handle. */
  void close(void (*done)(void*), void* arg);
  bool is_open() const { return fd_ >= 0 && !closing_; }
  const sockaddr_storage& local() const { return local_; }
  socklen_t local_len() const { return locallen_; }

  /** `conn` receives datagrams whose destination id is `cid`, and is reported to JS as `handle`. */
  void route(Conn* conn, int32_t handle, const uint8_t* cid, size_t len);
  /** Forgets every id of `conn` (it is closed or going away). */
  void detach(Conn* conn);
  /** Writes and sends every packet `conn` has now; returns how many. */
  size_t flush(Conn* conn);
  /** Sends one datagram built elsewhere (Retry, Version Negotiation, a refusal). */
  bool send_raw(const uint8_t* data, size_t len, const sockaddr_storage& to, socklen_t tolen);

  const SocketStats& stats() const { return stats_; }

 private:
  static void on_poll(uv_poll_t* handle, int status, int events);
  void read_all();
  void handle(const uint8_t* data, size_t len, const sockaddr_storage& from, socklen_t fromlen);
  size_t send_batch(size_t n, const sockaddr_storage& to, socklen_t tolen);

  uv_loop_t* loop_;
  size_t cid_len_;
  Hooks hooks_;
  int fd_ = -1;
  bool closing_ = false;
  bool gso_ = true;
  uv_poll_t* poll_ = nullptr;
  sockaddr_storage local_{};
  socklen_t locallen_ = 0;
  std::unordered_map<std::string, Conn*> routes_;
  std::vector<int32_t> touched_;
  std::vector<Conn*> touched_conns_;
  std::vector<uint8_t> rbuf_;
  std::vector<uint8_t> sbuf_;
  std::vector<size_t> slens_;
  SocketStats stats_;
};

}  // namespace ferry
