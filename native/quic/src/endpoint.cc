// See endpoint.h.
#include "endpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "conn.h"

namespace ferry {
namespace {

/** Datagrams per recvmmsg call, and calls per readiness event (so one busy socket cannot starve the loop). */
constexpr size_t kRecvBatch = 64;
constexpr int kMaxReadRounds = 8;
/** Packets one flush writes before handing them to the kernel. */
constexpr size_t kSendBatch = 64;
/** Linux caps a UDP_SEGMENT send at 64 segments and at 64 KiB of payload. */
constexpr size_t kMaxGsoSegments = 64;
constexpr size_t kMaxGsoBytes = 65000;

}  // namespace

Endpoint::Endpoint(uv_loop_t* loop, size_t cid_len, Hooks hooks)
    : loop_(loop),
      cid_len_(cid_len),
      hooks_(hooks),
      rbuf_(kRecvBatch * kSlot),
      sbuf_(kSendBatch * kSlot),
      slens_(kSendBatch) {
  touched_.reserve(kRecvBatch * kMaxReadRounds);
  touched_conns_.reserve(kRecvBatch * kMaxReadRounds);
}

Endpoint::~Endpoint() {
  for (auto& entry : routes_) entry.second->endpoint = nullptr;
  if (fd_ >= 0 && poll_ == nullptr) ::close(fd_);
}

bool Endpoint::open(const sockaddr_storage& addr, socklen_t len, int bufsize, std::string* error) {
  int fd = ::socket(addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  if (addr.ss_family == AF_INET6) {
    // Like node:dgram's udp6 sockets: '::' also accepts IPv4 (as mapped addresses).
    int off = 0;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
  }
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
    *error = std::string("bind: ") + std::strerror(errno);
    ::close(fd);
    return false;
  }
  // Best effort, as node:dgram's setRecvBufferSize: bursts of a few hundred packets must fit.
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
  // UDP GSO (Linux 4.18+): probing the option tells whether the kernel knows it at all; a device that
  // cannot segment makes the send fail later, and flush falls back to one datagram per packet.
  int seg = 1200;
  gso_ = setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg)) == 0;
  if (gso_) {
    seg = 0;
    setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg));
  }
  locallen_ = sizeof(local_);
  getsockname(fd, reinterpret_cast<sockaddr*>(&local_), &locallen_);
  poll_ = new uv_poll_t;
  if (uv_poll_init(loop_, poll_, fd) != 0) {
    delete poll_;
    poll_ = nullptr;
    ::close(fd);
    *error = "uv_poll_init failed";
    return false;
  }
  poll_->data = this;
  fd_ = fd;
  uv_poll_start(poll_, UV_READABLE, on_poll);
  return true;
}

namespace {
struct CloseState {
  int fd;
  void (*done)(void*);
  void* arg;
};
}  // namespace

void Endpoint::close(void (*done)(void*), void* arg) {
  if (closing_ || poll_ == nullptr) {
    closing_ = true;
    if (done != nullptr) done(arg);
    return;
  }
  closing_ = true;
  for (auto& entry : routes_) entry.second->endpoint = nullptr;
  routes_.clear();
  uv_poll_stop(poll_);
  poll_->data = new CloseState{fd_, done, arg};
  uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) {
    auto* st = static_cast<CloseState*>(h->data);
    // libuv must not poll a closed descriptor: it is closed only once the handle is gone.
    ::close(st->fd);
    if (st->done != nullptr) st->done(st->arg);
    delete st;
    delete reinterpret_cast<uv_poll_t*>(h);
  });
  poll_ = nullptr;
  fd_ = -1;
}

void Endpoint::route(Conn* conn, int32_t handle, const uint8_t* cid, size_t len) {
  if (closing_) return;
  if (conn->endpoint != nullptr && conn->endpoint != this) return;
  conn->endpoint = this;
  conn->handle = handle;
  std::string key(reinterpret_cast<const char*>(cid), len);
  auto it = routes_.find(key);
  if (it != routes_.end()) {
    if (it->second == conn) return;
    // An id reused by another connection (a client's original destination id): the newest wins, as in
    // the JavaScript router.
    auto& keys = it->second->route_keys;
    keys.erase(std::remove(keys.begin(), keys.end(), key), keys.end());
  }
  routes_[key] = conn;
  conn->route_keys.push_back(std::move(key));
}

void Endpoint::detach(Conn* conn) {
  if (conn->endpoint != this) return;
  for (const std::string& key : conn->route_keys) {
    auto it = routes_.find(key);
    if (it != routes_.end() && it->second == conn) routes_.erase(it);
  }
  conn->route_keys.clear();
  conn->endpoint = nullptr;
  if (conn->touched) {
    touched_conns_.erase(std::remove(touched_conns_.begin(), touched_conns_.end(), conn), touched_conns_.end());
    conn->touched = false;
  }
}

void Endpoint::on_poll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<Endpoint*>(handle->data);
  if (self == nullptr || self->closing_) return;
  if (status < 0 || (events & UV_READABLE) == 0) return;
  self->read_all();
}

void Endpoint::read_all() {
  mmsghdr msgs[kRecvBatch];
  iovec iov[kRecvBatch];
  sockaddr_storage from[kRecvBatch];
  touched_conns_.clear();
  for (int round = 0; round < kMaxReadRounds && !closing_; round++) {
    for (size_t i = 0; i < kRecvBatch; i++) {
      iov[i].iov_base = rbuf_.data() + i * kSlot;
      iov[i].iov_len = kSlot;
      std::memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd_, msgs, kRecvBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) break;
    stats_.read_calls++;
    for (int i = 0; i < n && !closing_; i++) {
      stats_.datagrams_in++;
      if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
        stats_.dropped_in++;
        continue;
      }
      handle(static_cast<const uint8_t*>(iov[i].iov_base), msgs[i].msg_len, from[i], msgs[i].msg_hdr.msg_namelen);
    }
    if (static_cast<size_t>(n) < kRecvBatch) break;
  }
  if (touched_conns_.empty()) return;
  // Flags are cleared before JavaScript runs: it may detach connections, and their handles may be
  // reported again on the next pass.
  touched_.clear();
  for (Conn* c : touched_conns_) {
    c->touched = false;
    touched_.push_back(c->handle);
  }
  touched_conns_.clear();
  if (!closing_) hooks_.on_input(hooks_.ctx, touched_);
}

void Endpoint::handle(const uint8_t* data, size_t len, const sockaddr_storage& from, socklen_t fromlen) {
  if (len == 0) return;
  const char* key = nullptr;
  size_t keylen = 0;
  if ((data[0] & 0x80) == 0) {
    // RFC 9000 §17.3.1: short header; the destination id is one of ours, so its length is known.
    if (len <= cid_len_) {
      stats_.dropped_in++;
      return;
    }
    key = reinterpret_cast<const char*>(data + 1);
    keylen = cid_len_;
  } else if (len >= 7 && data[5] <= 20 && static_cast<size_t>(7 + data[5]) <= len) {
    // RFC 8999 §5.1: the version-independent long header.
    key = reinterpret_cast<const char*>(data + 6);
    keylen = data[5];
  }
  if (key != nullptr) {
    auto it = routes_.find(std::string(key, keylen));
    if (it != routes_.end()) {
      Conn* c = it->second;
      if (!c->same_remote(from, fromlen)) c->set_remote(from, fromlen);  // NAT rebinding (RFC 9000 §9.3)
      c->recv(data, len);
      stats_.routed_in++;
      if (!c->touched && c->endpoint == this) {
        c->touched = true;
        touched_conns_.push_back(c);
      }
      return;
    }
    if ((data[0] & 0x80) == 0) {
      // Unknown ids are dropped (no Stateless Reset, RFC 9000 §10.3, which is optional).
      stats_.dropped_in++;
      return;
    }
  }
  hooks_.on_unrouted(hooks_.ctx, data, len, from);
}

size_t Endpoint::flush(Conn* conn) {
  if (closing_ || fd_ < 0) return 0;
  size_t total = 0;
  for (;;) {
    size_t n = 0;
    size_t off = 0;
    while (n < kSendBatch && sbuf_.size() - off >= kSlot) {
      size_t len = conn->write_packet(sbuf_.data() + off, kSlot);
      if (len == 0) break;
      slens_[n++] = len;
      off += len;
    }
    if (n == 0) break;
    total += send_batch(n, conn->remote(), conn->remote_len());
    if (n < kSendBatch) break;
  }
  return total;
}

size_t Endpoint::send_batch(size_t n, const sockaddr_storage& to, socklen_t tolen) {
  // Packets lie back to back in sbuf_. A run of equal-sized packets (the last may be shorter) goes out
  // as one UDP_SEGMENT message; everything else one datagram per message; all in one sendmmsg.
  mmsghdr msgs[kSendBatch];
  iovec iov[kSendBatch];
  alignas(cmsghdr) char ctrl[kSendBatch][CMSG_SPACE(sizeof(uint16_t))];
  size_t segs[kSendBatch];
  size_t m = 0;
  size_t off = 0;
  for (size_t i = 0; i < n;) {
    size_t seg = slens_[i];
    size_t j = i + 1;
    size_t bytes = seg;
    if (gso_) {
      while (j < n && j - i < kMaxGsoSegments && bytes + slens_[j] <= kMaxGsoBytes && slens_[j] <= seg) {
        bytes += slens_[j];
        bool last = slens_[j] < seg;
        j++;
        if (last) break;
      }
    }
    iov[m].iov_base = sbuf_.data() + off;
    iov[m].iov_len = bytes;
    std::memset(&msgs[m].msg_hdr, 0, sizeof(msgs[m].msg_hdr));
    msgs[m].msg_hdr.msg_name = const_cast<sockaddr_storage*>(&to);
    msgs[m].msg_hdr.msg_namelen = tolen;
    msgs[m].msg_hdr.msg_iov = &iov[m];
    msgs[m].msg_hdr.msg_iovlen = 1;
    segs[m] = j - i;
    if (j - i > 1) {
      msgs[m].msg_hdr.msg_control = ctrl[m];
      msgs[m].msg_hdr.msg_controllen = sizeof(ctrl[m]);
      cmsghdr* cm = CMSG_FIRSTHDR(&msgs[m].msg_hdr);
      cm->cmsg_level = SOL_UDP;
      cm->cmsg_type = UDP_SEGMENT;
      cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      uint16_t s = static_cast<uint16_t>(seg);
      std::memcpy(CMSG_DATA(cm), &s, sizeof(s));
    }
    off += bytes;
    m++;
    i = j;
  }
  size_t sent_packets = 0;
  size_t done = 0;
  while (done < m) {
    int r = sendmmsg(fd_, msgs + done, static_cast<unsigned>(m - done), 0);
    stats_.write_calls++;
    if (r > 0) {
      for (int k = 0; k < r; k++) {
        sent_packets += segs[done + k];
        if (segs[done + k] > 1) stats_.gso_batches++;
      }
      done += static_cast<size_t>(r);
      continue;
    }
    int err = errno;
    if (segs[done] > 1 && (err == EIO || err == EINVAL || err == EOPNOTSUPP)) {
      // The device cannot segment: from now on one datagram per packet; resend this run that way.
      gso_ = false;
      const uint8_t* p = static_cast<const uint8_t*>(iov[done].iov_base);
      size_t left = iov[done].iov_len;
      size_t seg = segs[done] > 1 ? *reinterpret_cast<uint16_t*>(CMSG_DATA(CMSG_FIRSTHDR(&msgs[done].msg_hdr))) : left;
      while (left > 0) {
        size_t len = std::min(seg, left);
        if (::sendto(fd_, p, len, 0, reinterpret_cast<const sockaddr*>(&to), tolen) >= 0) sent_packets++;
        else stats_.send_errors++;
        stats_.write_calls++;
        p += len;
        left -= len;
      }
      done++;
      continue;
    }
    if (err == EINTR) continue;
    // A full socket buffer or an unreachable peer: the rest of this batch is lost, like a dropped
    // datagram on the path; QUIC's loss recovery sends it again.
    for (size_t k = done; k < m; k++) stats_.send_errors += segs[k];
    break;
  }
  stats_.datagrams_out += sent_packets;
  return n;
}

bool Endpoint::send_raw(const uint8_t* data, size_t len, const sockaddr_storage& to, socklen_t tolen) {
  if (closing_ || fd_ < 0) return false;
  stats_.write_calls++;
  if (::sendto(fd_, data, len, 0, reinterpret_cast<const sockaddr*>(&to), tolen) < 0) {
    stats_.send_errors++;
    return false;
  }
  stats_.datagrams_out++;
  return true;
}

}  // namespace ferry
