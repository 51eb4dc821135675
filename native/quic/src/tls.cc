// TLS 1.3 for QUIC through GnuTLS (RFC 9001): ngtcp2's crypto helper installs the QUIC hooks, we only
// supply credentials, the cipher priority and ALPN.
#include "tls.h"

#include <ngtcp2/ngtcp2_crypto_gnutls.h>

namespace ferry {

// RFC 9001 §5.3: QUIC uses the TLS 1.3 AEADs; middlebox compatibility mode must be off (RFC 9001 §8.4).
static const char* kPriority =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:"
    "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:%DISABLE_TLS13_COMPAT_MODE";

std::shared_ptr<TlsContext> TlsContext::create(const std::string& cert_pem, const std::string& key_pem,
                                               const std::string& alpn, std::string* error) {
  std::shared_ptr<TlsContext> ctx(new TlsContext());
  ctx->alpn_ = alpn;
  int rv = gnutls_certificate_allocate_credentials(&ctx->cred_);
  if (rv != 0) {
    *error = gnutls_strerror(rv);
    return nullptr;
  }
  gnutls_datum_t cert{reinterpret_cast<unsigned char*>(const_cast<char*>(cert_pem.data())),
                      static_cast<unsigned int>(cert_pem.size())};
  gnutls_datum_t key{reinterpret_cast<unsigned char*>(const_cast<char*>(key_pem.data())),
                     static_cast<unsigned int>(key_pem.size())};
  rv = gnutls_certificate_set_x509_key_mem(ctx->cred_, &cert, &key, GNUTLS_X509_FMT_PEM);
  if (rv < 0) {
    *error = std::string("certificate/key: ") + gnutls_strerror(rv);
    return nullptr;
  }
  return ctx;
}

TlsContext::~TlsContext() {
  if (cred_ != nullptr) gnutls_certificate_free_credentials(cred_);
}

gnutls_session_t TlsContext::new_server_session(void* conn_ref, std::string* error) const {
  gnutls_session_t session = nullptr;
  int rv = gnutls_init(&session, GNUTLS_SERVER | GNUTLS_NO_END_OF_EARLY_DATA);
  if (rv != 0) {
    *error = gnutls_strerror(rv);
    return nullptr;
  }
  const char* err_pos = nullptr;
  if ((rv = gnutls_priority_set_direct(session, kPriority, &err_pos)) != 0 ||
      (rv = ngtcp2_crypto_gnutls_configure_server_session(session)) != 0 ||
      (rv = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred_)) != 0) {
    *error = rv < 0 ? gnutls_strerror(rv) : "ngtcp2 crypto setup failed";
    gnutls_deinit(session);
    return nullptr;
  }
  gnutls_session_set_ptr(session, conn_ref);
  // RFC 9001 §8.1: a QUIC server must fail the handshake when no application protocol matches.
  gnutls_datum_t proto{reinterpret_cast<unsigned char*>(const_cast<char*>(alpn_.data())),
                       static_cast<unsigned int>(alpn_.size())};
  if ((rv = gnutls_alpn_set_protocols(session, &proto, 1, GNUTLS_ALPN_MANDATORY)) != 0) {
    *error = gnutls_strerror(rv);
    gnutls_deinit(session);
    return nullptr;
  }
  return session;
}

}  // namespace ferry
