// HTTPS against the real binary: `csr-simulator tls-selfsigned DIR` makes a
// certificate, `--tls-cert/--tls-key` serve the whole listener over TLS, and
// a client that verifies the certificate runs an order's flow through it
// (README "HTTPS"; include/csrsim/tls.hpp).
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support.hpp"

using namespace csrsim::testing;
using Json = nlohmann::json;

namespace {

struct Certificate {
  std::string dir;
  std::string cert() const { return dir + "/cert.pem"; }
  std::string key() const { return dir + "/key.pem"; }
};

Certificate MakeCertificate(const std::vector<std::string>& names = {}) {
  Certificate made{MakeTempDir() + "/tls"};
  std::vector<std::string> args = {"tls-selfsigned", made.dir};
  args.insert(args.end(), names.begin(), names.end());
  const auto result = RunBinary(args);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  return made;
}

std::vector<std::string> TlsArgs(const Certificate& certificate) {
  return {"--clock", "manual", "--log-level", "off", "--tls-cert", certificate.cert(), "--tls-key", certificate.key()};
}

// A client that trusts only `certificate` and checks the server's name.
std::unique_ptr<httplib::SSLClient> TrustingClient(const SimulatorProcess& sim, const Certificate& certificate) {
  auto client = std::make_unique<httplib::SSLClient>("127.0.0.1", sim.port());
  client->set_ca_cert_path(certificate.cert().c_str());
  client->enable_server_certificate_verification(true);
  client->set_connection_timeout(10);
  client->set_read_timeout(10);
  client->set_keep_alive(true);
  client->set_default_headers({{"Authorization", GuideAuthorization()}});
  return client;
}

// True when the server closes a connection that connected and sent `bytes`
// (within 30 s: far beyond the --header-timeout the test sets).
bool ClosedAfterSending(int port, const std::string& bytes) {
  RawConnection connection(port);
  return connection.connected() && connection.Send(bytes) && connection.WaitClosed();
}

}  // namespace

TEST_CASE("tls-selfsigned writes a certificate for localhost and the names given, and a key only its owner reads") {
  const Certificate made = MakeCertificate({"csr-simulator", "127.0.0.2"});
  struct stat key_stat {};
  REQUIRE(stat(made.key().c_str(), &key_stat) == 0);
  CHECK((key_stat.st_mode & 0777) == 0600);
  const auto bad_name = RunBinary({"tls-selfsigned", made.dir + "/again", "not a name"});
  CHECK(bad_name.exit_code == 2);
  CHECK(bad_name.err.find("neither a host name nor an IP address") != std::string::npos);
}

TEST_CASE("with --tls-cert an order's whole flow runs over HTTPS, verified against the self-signed certificate") {
  const Certificate certificate = MakeCertificate();
  SimulatorProcess sim(TlsArgs(certificate));
  auto client = TrustingClient(sim, certificate);

  auto created = client->Post("/api/accounts/9900000/csrs", kGuideCsrBody, "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 200);
  const std::string id = XmlText(created->body, "OrderId").value_or("");
  REQUIRE_FALSE(id.empty());
  auto advanced = client->Post("/_sim/clock/advance", R"({"by":"5s"})", "application/json");
  REQUIRE(advanced);
  REQUIRE(advanced->status == 200);
  auto fetched = client->Get("/api/accounts/9900000/csrs/" + id);
  REQUIRE(fetched);
  CHECK(fetched->status == 200);
  CHECK(XmlText(fetched->body, "Status") == "COMPLETE");
  auto health = client->Get("/_sim/health");
  REQUIRE(health);
  CHECK(Json::parse(health->body)["status"] == "ok");
}

TEST_CASE("over HTTPS a client that does not trust the certificate fails its handshake; the server goes on") {
  const Certificate certificate = MakeCertificate();
  const Certificate stranger = MakeCertificate();
  SimulatorProcess sim(TlsArgs(certificate));
  auto distrusting = TrustingClient(sim, stranger);
  auto refused = distrusting->Get("/_sim/health");
  CHECK_FALSE(refused);
  CHECK(refused.error() == httplib::Error::SSLServerVerification);
  auto trusting = TrustingClient(sim, certificate);
  auto health = trusting->Get("/_sim/health");
  REQUIRE(health);
  CHECK(health->status == 200);
}

TEST_CASE("plain HTTP sent to the HTTPS listener gets a 400 that says to use https://") {
  const Certificate certificate = MakeCertificate();
  SimulatorProcess sim(TlsArgs(certificate));
  auto plain = sim.Client();
  auto control = plain->Get("/_sim/health");
  REQUIRE(control);
  CHECK(control->status == 400);
  CHECK(Json::parse(control->body)["error"].get<std::string>().find("https://") != std::string::npos);
  auto api = plain->Get("/api/accounts/9900000/csrs/any");
  REQUIRE(api);
  CHECK(api->status == 400);
  CHECK(XmlText(api->body, "Code") == "1012");
}

TEST_CASE("over HTTPS a client that stalls before or inside the handshake is cut off at --header-timeout") {
  const Certificate certificate = MakeCertificate();
  auto args = TlsArgs(certificate);
  args.insert(args.end(), {"--header-timeout", "1s"});
  SimulatorProcess sim(args);
  CHECK(ClosedAfterSending(sim.port(), ""));
  CHECK(ClosedAfterSending(sim.port(), std::string(1, '\x16')));  // a handshake record that never completes
  auto health = TrustingClient(sim, certificate)->Get("/_sim/health");
  REQUIRE(health);
  CHECK(health->status == 200);
}

TEST_CASE("bad TLS files exit 2 with one line naming the flag") {
  const Certificate certificate = MakeCertificate();
  const Certificate other = MakeCertificate();
  const std::string dir = MakeTempDir();
  const std::string not_pem = WriteFile(dir, "cert.pem", "not a certificate\n");

  auto only_cert = RunBinary({"--port", "0", "--tls-cert", certificate.cert()});
  CHECK(only_cert.exit_code == 2);
  CHECK(only_cert.err.find("--tls-cert and --tls-key go together") != std::string::npos);
  auto missing = RunBinary({"--port", "0", "--tls-cert", dir + "/absent.pem", "--tls-key", certificate.key()});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("--tls-cert: cannot read") != std::string::npos);
  auto garbage = RunBinary({"--port", "0", "--tls-cert", not_pem, "--tls-key", certificate.key()});
  CHECK(garbage.exit_code == 2);
  CHECK(garbage.err.find("is not a PEM certificate") != std::string::npos);
  auto mismatched = RunBinary({"--port", "0", "--tls-cert", certificate.cert(), "--tls-key", other.key()});
  CHECK(mismatched.exit_code == 2);
  CHECK(mismatched.err.find("does not match the certificate") != std::string::npos);
}
