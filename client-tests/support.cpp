#include "support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace csrsim::testing {

namespace {

namespace fs = std::filesystem;

std::string Base64(const std::string& bytes) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned value = 0;
  int bits = -6;
  for (unsigned char c : bytes) {
    value = (value << 8) | c;
    bits += 8;
    while (bits >= 0) {
      out += alphabet[(value >> bits) & 0x3F];
      bits -= 6;
    }
  }
  if (bits > -6) out += alphabet[((value << 8) >> (bits + 8)) & 0x3F];
  while (out.size() % 4) out += '=';
  return out;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<char*> Argv(const std::string& binary, const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  return argv;
}

// Reads from `fd` until a line containing "listening on" arrives (or the
// timeout passes); returns the port after the last ':' of that line.
int ReadListeningPort(int fd, std::chrono::milliseconds timeout) {
  std::string buffer;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{fd, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (poll(&pfd, 1, static_cast<int>(std::max<long long>(left.count(), 1))) <= 0) continue;
    char chunk[256];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n <= 0) return -1;  // the process exited
    buffer.append(chunk, static_cast<std::size_t>(n));
    auto at = buffer.find("listening on");
    auto end = at == std::string::npos ? std::string::npos : buffer.find('\n', at);
    if (end != std::string::npos) {
      auto colon = buffer.rfind(':', end);
      return std::atoi(buffer.c_str() + colon + 1);
    }
  }
  return -1;
}

const std::string& Binary() {
  static const std::string binary = std::getenv("CSRSIM_BINARY") ? std::getenv("CSRSIM_BINARY") : CSRSIM_BINARY;
  return binary;
}

}  // namespace

std::string BasicAuthorization(const std::string& user, const std::string& password) {
  return "Basic " + Base64(user + ":" + password);
}

std::string GuideAuthorization() { return "Basic dXNlcm5hbWU6cGFzc3dvcmQ="; }

SimulatorProcess::SimulatorProcess(std::vector<std::string> args) {
  stderr_path_ = WriteFile(MakeTempDir(), "stderr.log", "");
  std::vector<std::string> full = {"--port", "0", "--host", "127.0.0.1"};
  full.insert(full.end(), args.begin(), args.end());
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out[1], STDOUT_FILENO);
    int err = open(stderr_path_.c_str(), O_WRONLY | O_TRUNC);
    dup2(err, STDERR_FILENO);
    close(out[0]);
    auto argv = Argv(Binary(), full);
    execv(Binary().c_str(), argv.data());
    _exit(127);
  }
  close(out[1]);
  port_ = ReadListeningPort(out[0], std::chrono::seconds(10));
  close(out[0]);
  if (port_ <= 0) {
    Stop();
    throw std::runtime_error("csr-simulator did not start: " + ReadAll(stderr_path_));
  }
}

SimulatorProcess::~SimulatorProcess() { Stop(); }

std::string SimulatorProcess::BaseUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::unique_ptr<httplib::Client> SimulatorProcess::Client(const std::string& authorization) const {
  auto client = std::make_unique<httplib::Client>("127.0.0.1", port_);
  client->set_connection_timeout(10);
  client->set_read_timeout(10);
  client->set_write_timeout(10);
  if (!authorization.empty()) client->set_default_headers({{"Authorization", authorization}});
  return client;
}

int SimulatorProcess::Stop(int signal) {
  if (pid_ > 0) {
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
  }
  return exit_code_;
}

std::string SimulatorProcess::Stderr() const { return ReadAll(stderr_path_); }

ProcessResult RunBinary(const std::vector<std::string>& args) {
  const std::string dir = MakeTempDir();
  const std::string out_path = dir + "/out";
  const std::string err_path = dir + "/err";
  pid_t pid = fork();
  if (pid == 0) {
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    auto argv = Argv(Binary(), args);
    execv(Binary().c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ProcessResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadAll(out_path);
  result.err = ReadAll(err_path);
  return result;
}

bool AdvanceClock(const SimulatorProcess& simulator, const std::string& by) {
  auto response = simulator.Client("")->Post("/_sim/clock/advance", "{\"by\":\"" + by + "\"}", "application/json");
  return response && response->status == 200;
}

std::string SubscriptionRequest::Xml() const {
  std::string xml = "<Subscription>";
  if (!order_type.empty()) xml += "<OrderType>" + order_type + "</OrderType>";
  if (!order_id.empty()) xml += "<OrderId>" + order_id + "</OrderId>";
  xml += "<CallbackSubscription><URL>" + url + "</URL>";
  if (expiry) xml += "<Expiry>" + std::to_string(*expiry) + "</Expiry>";
  if (!username.empty() || !password.empty()) {
    xml += "<CallbackCredentials><BasicAuthentication><Username>" + username + "</Username><Password>" + password +
           "</Password></BasicAuthentication></CallbackCredentials>";
  }
  return xml + "</CallbackSubscription></Subscription>";
}

std::string CsrBody(const std::string& tn, const std::string& extra) {
  return "<Csr><WorkingOrBillingTelephoneNumber>" + tn + "</WorkingOrBillingTelephoneNumber>" + extra + "</Csr>";
}

std::string SubscribeAndCreate(httplib::Client& api, const std::string& account, const std::string& callback_url,
                               const std::string& csr_body) {
  const std::string base = "/api/accounts/" + account;
  auto subscribed =
      api.Post((base + "/subscriptions").c_str(), SubscriptionRequest(callback_url).Xml(), "application/xml");
  REQUIRE(subscribed);
  INFO(subscribed->body);
  REQUIRE(subscribed->status == 201);
  auto created = api.Post((base + "/csrs").c_str(), csr_body, "application/xml");
  REQUIRE(created);
  INFO(created->body);
  REQUIRE(created->status == 200);
  return XmlText(created->body, "OrderId").value_or("");
}

std::optional<std::string> RawResponse::Header(const std::string& name) const {
  std::string lower_head = head;
  std::string lower_name = name + ":";
  for (auto& c : lower_head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto& c : lower_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto at = lower_head.find("\r\n" + lower_name);
  if (at == std::string::npos) return std::nullopt;
  auto start = at + 2 + lower_name.size();
  auto end = head.find("\r\n", start);
  std::string value = head.substr(start, end - start);
  value.erase(0, value.find_first_not_of(' '));
  return value;
}

RawConnection::RawConnection(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
}

RawConnection::~RawConnection() { close(fd_); }

bool RawConnection::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    auto sent = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

std::optional<RawResponse> RawConnection::Read(std::chrono::milliseconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  for (;;) {
    auto end = buffer_.find("\r\n\r\n");
    if (end != std::string::npos) {
      RawResponse response;
      response.head = buffer_.substr(0, end);
      response.status = std::atoi(response.head.c_str() + 9);
      std::size_t length = 0;
      if (auto text = response.Header("Content-Length")) length = std::stoul(*text);
      if (buffer_.size() >= end + 4 + length) {
        response.body = buffer_.substr(end + 4, length);
        buffer_.erase(0, end + 4 + length);
        return response;
      }
    }
    if (!Fill(deadline)) return std::nullopt;
  }
}

bool RawConnection::WaitClosed(std::chrono::milliseconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (Fill(deadline)) buffer_.clear();
  return closed_;
}

bool RawConnection::Answered() {
  pollfd pfd{fd_, POLLIN, 0};
  return poll(&pfd, 1, 0) > 0;
}

bool RawConnection::Fill(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd pfd{fd_, POLLIN, 0};
  if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
  char chunk[16384];
  auto got = recv(fd_, chunk, sizeof chunk, 0);
  if (got <= 0) {
    closed_ = true;
    return false;
  }
  buffer_.append(chunk, static_cast<std::size_t>(got));
  return true;
}

std::string LocationId(const httplib::Result& response) {
  if (!response) return "";
  const std::string location = response->get_header_value("Location");
  auto slash = location.rfind('/');
  return slash == std::string::npos ? "" : location.substr(slash + 1);
}

std::string XmlRoot(const std::string& xml) {
  for (auto at = xml.find('<'); at != std::string::npos; at = xml.find('<', at + 1)) {
    if (at + 1 < xml.size() && (xml[at + 1] == '?' || xml[at + 1] == '!')) continue;
    auto end = xml.find_first_of(" \t\r\n/>", at + 1);
    return end == std::string::npos ? "" : xml.substr(at + 1, end - at - 1);
  }
  return "";
}

std::optional<std::string> XmlText(const std::string& xml, const std::string& name) {
  const std::string open = "<" + name + ">";
  auto start = xml.find(open);
  if (start == std::string::npos) return std::nullopt;
  start += open.size();
  auto end = xml.find("</" + name + ">", start);
  if (end == std::string::npos) return std::nullopt;
  return xml.substr(start, end - start);
}

std::size_t XmlCount(const std::string& xml, const std::string& name) {
  std::size_t count = 0;
  for (const std::string& open : {"<" + name + ">", "<" + name + "/>", "<" + name + " />"}) {
    for (auto at = xml.find(open); at != std::string::npos; at = xml.find(open, at + 1)) ++count;
  }
  return count;
}

}  // namespace csrsim::testing
