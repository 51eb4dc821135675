// GnuTLS credentials shared by the connections of one engine configuration (one certificate set).
#pragma once
#include <gnutls/gnutls.h>
#include <memory>
#include <string>

namespace ferry {

/** Server credentials built from PEM; connections hold a shared_ptr so rotation never frees one in use. */
class TlsContext {
 public:
  static std::shared_ptr<TlsContext> create(const std::string& cert_pem, const std::string& key_pem,
                                            const std::string& alpn, std::string* error);
  ~TlsContext();
  /** A new server session configured for QUIC (ngtcp2 crypto hooks, ALPN, credentials). */
  gnutls_session_t new_server_session(void* conn_ref, std::string* error) const;

 private:
  TlsContext() = default;
  gnutls_certificate_credentials_t cred_ = nullptr;
  std::string alpn_;
};

}  // namespace ferry
