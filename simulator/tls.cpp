// HTTPS with OpenSSL: the listener's TLS sessions and the self-signed
// certificate maker (tls.hpp).
#include "csrsim/tls.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace csrsim {

namespace {

// The reason OpenSSL queued last, as text; clears the thread's queue.
std::string OpenSslReason() {
  unsigned long code = 0;
  unsigned long last = 0;
  while ((code = ERR_get_error()) != 0) last = code;
  if (last == 0) return "unknown OpenSSL error";
  const char* reason = ERR_reason_error_string(last);
  return reason ? reason : "OpenSSL error " + std::to_string(last);
}

bool Readable(const std::string& file) { return access(file.c_str(), R_OK) == 0; }

template <typename T, void (*Free)(T*)>
struct Freer {
  void operator()(T* p) const { Free(p); }
};
using X509Ptr = std::unique_ptr<X509, Freer<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Freer<EVP_PKEY, EVP_PKEY_free>>;
using BigNumPtr = std::unique_ptr<BIGNUM, Freer<BIGNUM, BN_free>>;

// Waits until `fd` is ready for `events` or `deadline` passes.
TlsResult WaitFor(int fd, short events, TlsSession::Deadline deadline) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return TlsResult::kTimeout;
    pollfd watched{fd, events, 0};
    const int ready = poll(&watched, 1, static_cast<int>(std::min<long long>(left, 60'000)));
    if (ready > 0) return TlsResult::kOk;
    if (ready < 0 && errno != EINTR) return TlsResult::kClosed;
  }
}

std::string SubjectAltNames(const std::vector<std::string>& extra_names) {
  std::string names = "DNS:localhost,IP:127.0.0.1,IP:::1";
  for (const auto& name : extra_names) {
    unsigned char address[16];
    if (inet_pton(AF_INET, name.c_str(), address) == 1 || inet_pton(AF_INET6, name.c_str(), address) == 1) {
      names += ",IP:" + name;
      continue;
    }
    const bool valid_dns = !name.empty() && name.size() <= 253 && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '*';
    });
    if (!valid_dns) throw std::runtime_error("tls-selfsigned: '" + name + "' is neither a host name nor an IP address");
    names += ",DNS:" + name;
  }
  return names;
}

void AddExtension(X509* certificate, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, certificate, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  if (!extension) throw std::runtime_error("tls-selfsigned: cannot make the extension '" + value + "'");
  X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
}

// Writes `pem` to `path` (mode `mode`) through `write`.
template <typename Write>
void WritePem(const std::string& path, mode_t mode, Write write) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("tls-selfsigned: cannot write '" + path + "': " + std::strerror(errno));
  fchmod(fd, mode);  // an existing file keeps its mode otherwise
  FILE* out = fdopen(fd, "w");
  if (!out) {
    close(fd);
    throw std::runtime_error("tls-selfsigned: cannot write '" + path + "'");
  }
  const bool written = write(out) == 1;
  const bool closed = std::fclose(out) == 0;
  if (!written || !closed) throw std::runtime_error("tls-selfsigned: cannot write '" + path + "'");
}

}  // namespace

// ---------------------------------------------------------------------------

struct TlsContext::Impl {
  SSL_CTX* context = nullptr;
  ~Impl() { SSL_CTX_free(context); }
};

TlsContext::TlsContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsContext::~TlsContext() = default;

std::shared_ptr<const TlsContext> TlsContext::Load(const std::string& cert_file, const std::string& key_file) {
  if (!Readable(cert_file)) throw std::runtime_error("--tls-cert: cannot read '" + cert_file + "'");
  if (!Readable(key_file)) throw std::runtime_error("--tls-key: cannot read '" + key_file + "'");
  auto impl = std::make_unique<Impl>();
  ERR_clear_error();
  impl->context = SSL_CTX_new(TLS_server_method());
  if (!impl->context) throw std::runtime_error("TLS: " + OpenSslReason());
  SSL_CTX_set_min_proto_version(impl->context, TLS1_2_VERSION);
  SSL_CTX_set_mode(impl->context, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_use_certificate_chain_file(impl->context, cert_file.c_str()) != 1) {
    throw std::runtime_error("--tls-cert: '" + cert_file + "' is not a PEM certificate: " + OpenSslReason());
  }
  KeyPtr key;
  if (FILE* in = std::fopen(key_file.c_str(), "r")) {
    // No passphrase: an encrypted key fails here instead of prompting on the terminal.
    auto no_passphrase = [](char*, int, int, void*) { return 0; };
    key.reset(PEM_read_PrivateKey(in, nullptr, no_passphrase, nullptr));
    std::fclose(in);
  }
  if (!key) {
    throw std::runtime_error("--tls-key: '" + key_file + "' is not an unencrypted PEM private key: " + OpenSslReason());
  }
  if (SSL_CTX_use_PrivateKey(impl->context, key.get()) != 1 || SSL_CTX_check_private_key(impl->context) != 1) {
    ERR_clear_error();
    throw std::runtime_error("--tls-key: '" + key_file + "' does not match the certificate in '" + cert_file + "'");
  }
  return std::shared_ptr<const TlsContext>(new TlsContext(std::move(impl)));
}

// ---------------------------------------------------------------------------

struct TlsSession::Impl {
  SSL* ssl = nullptr;
  int fd = -1;

  // Runs `operation` (an SSL call returning > 0 on success) until it
  // succeeds, waiting on the socket for what OpenSSL needs.
  template <typename Operation>
  TlsResult Drive(Operation operation, Deadline deadline, int& result) {
    for (;;) {
      ERR_clear_error();
      result = operation();
      if (result > 0) return TlsResult::kOk;
      short events = 0;
      switch (SSL_get_error(ssl, result)) {
        case SSL_ERROR_WANT_READ:
          events = POLLIN;
          break;
        case SSL_ERROR_WANT_WRITE:
          events = POLLOUT;
          break;
        default:
          ERR_clear_error();
          return TlsResult::kClosed;
      }
      if (const TlsResult waited = WaitFor(fd, events, deadline); waited != TlsResult::kOk) return waited;
    }
  }
};

TlsSession::TlsSession(const TlsContext& context, int fd) : impl_(std::make_unique<Impl>()) {
  impl_->fd = fd;
  impl_->ssl = SSL_new(context.impl_->context);
  if (!impl_->ssl) throw std::bad_alloc();
  SSL_set_fd(impl_->ssl, fd);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

TlsSession::~TlsSession() { SSL_free(impl_->ssl); }

TlsResult TlsSession::Handshake(Deadline deadline) {
  int result = 0;
  return impl_->Drive([this] { return SSL_accept(impl_->ssl); }, deadline, result);
}

TlsResult TlsSession::Read(char* out, std::size_t size, std::size_t& got, Deadline deadline) {
  int result = 0;
  const int wanted = static_cast<int>(std::min<std::size_t>(size, INT_MAX));
  const TlsResult status = impl_->Drive([&] { return SSL_read(impl_->ssl, out, wanted); }, deadline, result);
  got = status == TlsResult::kOk ? static_cast<std::size_t>(result) : 0;
  return status;
}

TlsResult TlsSession::Write(std::string_view bytes, Deadline deadline) {
  while (!bytes.empty()) {
    int result = 0;
    const int size = static_cast<int>(std::min<std::size_t>(bytes.size(), INT_MAX));
    const TlsResult status = impl_->Drive([&] { return SSL_write(impl_->ssl, bytes.data(), size); }, deadline, result);
    if (status != TlsResult::kOk) return status;
    bytes.remove_prefix(static_cast<std::size_t>(result));
  }
  return TlsResult::kOk;
}

void TlsSession::Close() {
  ERR_clear_error();
  SSL_shutdown(impl_->ssl);  // queues close_notify; a peer gone already is fine
  ERR_clear_error();
}

// ---------------------------------------------------------------------------

void WriteSelfSignedCertificate(const std::string& dir, const std::vector<std::string>& extra_names) {
  const std::string alt_names = SubjectAltNames(extra_names);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) throw std::runtime_error("tls-selfsigned: cannot create '" + dir + "': " + error.message());

  ERR_clear_error();
  KeyPtr key(EVP_EC_gen("P-256"));
  X509Ptr certificate(X509_new());
  BigNumPtr serial(BN_new());
  if (!key || !certificate || !serial) throw std::runtime_error("tls-selfsigned: " + OpenSslReason());
  X509_set_version(certificate.get(), 2);                           // v3
  BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);  // positive, under 2^127
  BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate.get()));
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -3600);  // tolerate a clock a little behind
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 825L * 24 * 3600);
  X509_set_pubkey(certificate.get(), key.get());
  X509_NAME* name = X509_get_subject_name(certificate.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("csr-simulator"), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(certificate.get(), name);
  AddExtension(certificate.get(), NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(certificate.get(), NID_key_usage, "critical,digitalSignature,keyCertSign");
  AddExtension(certificate.get(), NID_ext_key_usage, "serverAuth");
  AddExtension(certificate.get(), NID_subject_key_identifier, "hash");
  AddExtension(certificate.get(), NID_subject_alt_name, alt_names);
  if (X509_sign(certificate.get(), key.get(), EVP_sha256()) <= 0) {
    throw std::runtime_error("tls-selfsigned: cannot sign: " + OpenSslReason());
  }

  WritePem(dir + "/key.pem", 0600,
           [&key](FILE* out) { return PEM_write_PrivateKey(out, key.get(), nullptr, nullptr, 0, nullptr, nullptr); });
  WritePem(dir + "/cert.pem", 0644, [&certificate](FILE* out) { return PEM_write_X509(out, certificate.get()); });
}

}  // namespace csrsim
