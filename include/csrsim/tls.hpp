// tls: HTTPS for the listener (--tls-cert / --tls-key) and the certificate
// maker behind `csr-simulator tls-selfsigned`. The only module that includes
// OpenSSL (Debian's cpp-httplib links the same libssl).
//
// The server (server.cpp) keeps its own connection loop and asks a TlsSession
// for bytes instead of the socket: the session puts the socket in
// non-blocking mode and waits with poll() against the caller's deadlines, so
// a stalled TLS peer is cut off by the same --header-timeout and
// --keep-alive-timeout as a plain one.
//
// Thread-safety: a TlsContext is immutable after Load and shared by every
// connection's thread; a TlsSession belongs to one connection's thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace csrsim {

class TlsContext {
 public:
  // Loads a PEM certificate (chain) and the PEM private key that matches it.
  // Throws std::runtime_error with one line naming the file and the reason.
  static std::shared_ptr<const TlsContext> Load(const std::string& cert_file, const std::string& key_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

 private:
  friend class TlsSession;
  struct Impl;
  explicit TlsContext(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

enum class TlsResult { kOk, kTimeout, kClosed };

// One server-side TLS connection over an accepted socket it does not own
// (the caller closes the socket after destroying the session).
class TlsSession {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  TlsSession(const TlsContext& context, int fd);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // The server side of the handshake.
  TlsResult Handshake(Deadline deadline);
  // Decrypted bytes, at most `size`, into `out`; `got` > 0 when kOk.
  TlsResult Read(char* out, std::size_t size, std::size_t& got, Deadline deadline);
  // All of `bytes`, or not kOk.
  TlsResult Write(std::string_view bytes, Deadline deadline);
  // Sends close_notify (best effort, never waits).
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True when `first_byte` opens a TLS handshake record: a connection to an
// HTTPS listener that starts otherwise is plain HTTP sent to the wrong scheme.
constexpr bool LooksLikeTlsHandshake(unsigned char first_byte) { return first_byte == 0x16; }

// Writes DIR/cert.pem and DIR/key.pem: a self-signed ECDSA P-256 certificate
// for localhost, 127.0.0.1 and ::1 plus `extra_names` (DNS names or IP
// addresses), valid for 825 days, usable as its own trust anchor (CA:TRUE).
// Creates DIR if missing; the key file is mode 0600. Throws
// std::runtime_error with one line.
void WriteSelfSignedCertificate(const std::string& dir, const std::vector<std::string>& extra_names);

}  // namespace csrsim
