#include "csrsim/http1.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "csrsim/encoding.hpp"

namespace csrsim::http1 {

namespace {

bool IsTokenChar(char c) {
  auto byte = static_cast<unsigned char>(c);
  if (std::isalnum(byte)) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view text) { return !text.empty() && std::all_of(text.begin(), text.end(), IsTokenChar); }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// True when the comma-separated list `value` holds `token` (any case).
bool ListHas(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    auto comma = value.find(',');
    if (EqualsIgnoreCase(Trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// The next line of `bytes` from `pos`, without its CRLF (or bare LF); nullopt
// when no line end was read yet. `next` is set past the line end.
std::optional<std::string_view> LineAt(std::string_view bytes, std::size_t pos, std::size_t& next) {
  auto lf = bytes.find('\n', pos);
  if (lf == std::string_view::npos) return std::nullopt;
  next = lf + 1;
  auto line = bytes.substr(pos, lf - pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

HeadParse Refused(Error error, RequestHead head = {}) {
  HeadParse result;
  result.status = HeadParse::Status::kRefused;
  result.head = std::move(head);
  result.error = std::move(error);
  return result;
}

// "METHOD target HTTP/1.x"; fills method, path, query_string, minor_version.
std::optional<Error> ParseRequestLine(std::string_view line, RequestHead& head) {
  auto first = line.find(' ');
  auto last = line.rfind(' ');
  if (first == std::string_view::npos || last == first) {
    return Error::MalformedRequest("the request line must be 'METHOD target HTTP/1.1'");
  }
  std::string_view method = line.substr(0, first);
  std::string_view target = line.substr(first + 1, last - first - 1);
  std::string_view version = line.substr(last + 1);
  if (!IsToken(method)) return Error::MalformedRequest("invalid method");
  head.method = std::string(method);
  if (version == "HTTP/1.1") {
    head.minor_version = 1;
  } else if (version == "HTTP/1.0") {
    head.minor_version = 0;
    head.keep_alive = false;
  } else {
    return Error::MalformedRequest("unsupported protocol version; HTTP/1.1 and HTTP/1.0 are served");
  }
  head.target = std::string(target);
  // Absolute form (a proxy's): keep the path.
  if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0) {
    auto slash = target.find('/', target.find("//") + 2);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  if (target.empty() || (target.front() != '/' && target != "*") ||
      target.find_first_of(" \t") != std::string_view::npos) {
    return Error::MalformedRequest("invalid request target");
  }
  auto question = target.find('?');
  head.path = PercentDecode(target.substr(0, question));
  if (question != std::string_view::npos) head.query_string = std::string(target.substr(question + 1));
  return std::nullopt;
}

// The method and the start of the path of a request line too long to parse,
// so that its refusal has the shape of its route family.
RequestHead PartialHead(std::string_view line) {
  RequestHead head;
  auto space = line.find(' ');
  if (space == std::string_view::npos || !IsToken(line.substr(0, space))) return head;
  head.method = std::string(line.substr(0, space));
  std::string_view target = line.substr(space + 1, 256);
  head.path = std::string(target.substr(0, target.find_first_of("? ")));
  return head;
}

// Content-Length: digits only; several fields must agree.
std::optional<Error> ParseContentLength(RequestHead& head, const Limits& limits) {
  auto [begin, end] = head.headers.equal_range("Content-Length");
  std::optional<std::size_t> length;
  for (auto it = begin; it != end; ++it) {
    const std::string& text = it->second;
    std::size_t value = 0;
    if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return Error::MalformedRequest("Content-Length '" + text.substr(0, 32) + "' is not a whole number");
    }
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range || (ec == std::errc() && value > limits.max_body_bytes)) {
      return Error::PayloadTooLarge(limits.max_body_bytes);
    }
    if (length && *length != value) return Error::MalformedRequest("conflicting Content-Length fields");
    length = value;
  }
  if (length) {
    head.framing = BodyFraming::kLength;
    head.content_length = *length;
  }
  return std::nullopt;
}

}  // namespace

namespace {

Error HeadTooLarge(const Limits& limits) {
  return Error::HeadersTooLarge("at most " + std::to_string(limits.max_header_bytes) + " bytes");
}

// Reads the header fields that follow the request line (from `next`) up to
// the empty line, and moves `next` past it. Nothing: read more; an Error:
// the head is refused.
enum class FieldsRead { kDone, kIncomplete, kRefused };
FieldsRead ReadHeaderFields(std::string_view bytes, std::size_t start, std::size_t& next, const Limits& limits,
                            RequestHead& head, std::optional<Error>& error) {
  const auto too_large = [&](std::size_t end) { return end - start > limits.max_header_bytes; };
  for (std::size_t count = 0;;) {
    std::size_t pos = next;
    auto line = LineAt(bytes, pos, next);
    if (!line && !too_large(bytes.size())) return FieldsRead::kIncomplete;
    if (!line || too_large(next)) {
      error = HeadTooLarge(limits);
      return FieldsRead::kRefused;
    }
    if (line->empty()) return FieldsRead::kDone;
    if (++count > limits.max_headers) {
      error = Error::HeadersTooLarge("at most " + std::to_string(limits.max_headers) + " header fields");
      return FieldsRead::kRefused;
    }
    auto colon = line->find(':');
    if (colon == std::string_view::npos || !IsToken(line->substr(0, colon))) {
      error = Error::MalformedRequest("invalid header line");
      return FieldsRead::kRefused;
    }
    head.headers.emplace(std::string(line->substr(0, colon)), std::string(Trim(line->substr(colon + 1))));
  }
}

// What the header fields say about the connection and the body: keep-alive,
// 100-continue, chunked or a Content-Length.
std::optional<Error> ReadConnectionAndFraming(RequestHead& head, const Limits& limits) {
  if (auto connection = head.headers.find("Connection"); connection != head.headers.end()) {
    if (ListHas(connection->second, "close")) head.keep_alive = false;
    if (head.minor_version == 0 && ListHas(connection->second, "keep-alive")) head.keep_alive = true;
  }
  if (auto expect = head.headers.find("Expect"); expect != head.headers.end()) {
    head.expect_continue = EqualsIgnoreCase(expect->second, "100-continue");
  }
  auto coding = head.headers.find("Transfer-Encoding");
  if (coding == head.headers.end()) return ParseContentLength(head, limits);
  // Only chunked is understood; a length beside it is ignored and the
  // connection closes after the answer (no request smuggling).
  if (!ListHas(coding->second, "chunked")) {
    return Error::MalformedRequest("Transfer-Encoding '" + coding->second.substr(0, 32) +
                                   "' is not supported; send chunked or a Content-Length");
  }
  head.framing = BodyFraming::kChunked;
  if (head.headers.count("Content-Length")) head.keep_alive = false;
  return std::nullopt;
}

}  // namespace

HeadParse ParseRequestHead(std::string_view bytes, const Limits& limits) {
  std::size_t start = 0;
  while (start < bytes.size() && (bytes[start] == '\r' || bytes[start] == '\n')) ++start;
  if (start > 64) return Refused(Error::MalformedRequest("empty lines before the request line"));
  std::size_t next = 0;
  RequestHead head;
  auto request_line = LineAt(bytes, start, next);
  if (!request_line) {
    if (bytes.size() - start > limits.max_request_line) {
      return Refused(Error::UriTooLong(limits.max_request_line), PartialHead(bytes.substr(start)));
    }
    return {};
  }
  if (request_line->size() > limits.max_request_line) {
    return Refused(Error::UriTooLong(limits.max_request_line), PartialHead(*request_line));
  }
  if (auto error = ParseRequestLine(*request_line, head)) return Refused(std::move(*error), std::move(head));

  std::optional<Error> error;
  switch (ReadHeaderFields(bytes, start, next, limits, head, error)) {
    case FieldsRead::kIncomplete:
      return {};
    case FieldsRead::kRefused:
      return Refused(std::move(*error), std::move(head));
    case FieldsRead::kDone:
      break;
  }
  if (auto framing_error = ReadConnectionAndFraming(head, limits)) {
    return Refused(std::move(*framing_error), std::move(head));
  }
  HeadParse result;
  result.status = HeadParse::Status::kDone;
  result.consumed = next;
  result.head = std::move(head);
  return result;
}

// ---------------------------------------------------------------------------
// Chunked bodies

ChunkedDecoder::Status ChunkedDecoder::Refuse(Error error) {
  error_ = std::move(error);
  return Status::kRefused;
}

std::optional<ChunkedDecoder::Status> ChunkedDecoder::ReadSizeLine(std::string_view rest, const std::string& body,
                                                                   std::size_t& consumed) {
  constexpr std::size_t kMaxSizeLine = 1024;
  std::size_t next = 0;
  auto line = LineAt(rest, 0, next);
  if (!line) {
    if (rest.size() > kMaxSizeLine) return Refuse(Error::MalformedRequest("chunk size line too long"));
    return Status::kNeedMore;
  }
  std::string_view digits = Trim(line->substr(0, line->find(';')));
  std::size_t size = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), size, 16);
  if (ec == std::errc::result_out_of_range) return Refuse(Error::PayloadTooLarge(limits_.max_body_bytes));
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size()) {
    return Refuse(Error::MalformedRequest("invalid chunk size"));
  }
  if (size > limits_.max_body_bytes - body.size()) return Refuse(Error::PayloadTooLarge(limits_.max_body_bytes));
  consumed += next;
  remaining_ = size;
  state_ = size == 0 ? State::kTrailer : State::kData;
  return std::nullopt;
}

void ChunkedDecoder::ReadData(std::string_view rest, std::string& body, std::size_t& consumed) {
  const std::size_t take = std::min(remaining_, rest.size());
  body.append(rest.substr(0, take));
  consumed += take;
  remaining_ -= take;
  if (remaining_ == 0) state_ = State::kDataEnd;
}

std::optional<ChunkedDecoder::Status> ChunkedDecoder::ReadDataEnd(std::string_view rest, std::size_t& consumed) {
  std::size_t next = 0;
  auto line = LineAt(rest, 0, next);
  if (!line && rest.size() <= 2) return Status::kNeedMore;
  if (!line || !line->empty()) return Refuse(Error::MalformedRequest("chunk data longer than its size"));
  consumed += next;
  state_ = State::kSize;
  return std::nullopt;
}

std::optional<ChunkedDecoder::Status> ChunkedDecoder::ReadTrailerLine(std::string_view rest, std::size_t& consumed) {
  std::size_t next = 0;
  auto line = LineAt(rest, 0, next);
  const std::size_t read = line ? next : rest.size();
  if (trailer_bytes_ + read > limits_.max_header_bytes) return Refuse(HeadTooLarge(limits_));
  if (!line) return Status::kNeedMore;
  consumed += next;
  trailer_bytes_ += next;
  if (line->empty()) return Status::kDone;  // trailer fields are read and ignored
  return std::nullopt;
}

ChunkedDecoder::Status ChunkedDecoder::Feed(std::string_view bytes, std::string& body, std::size_t& consumed) {
  consumed = 0;
  while (consumed < bytes.size()) {
    const std::string_view rest = bytes.substr(consumed);
    std::optional<Status> ended;
    switch (state_) {
      case State::kSize:
        ended = ReadSizeLine(rest, body, consumed);
        break;
      case State::kData:
        ReadData(rest, body, consumed);
        break;
      case State::kDataEnd:
        ended = ReadDataEnd(rest, consumed);
        break;
      case State::kTrailer:
        ended = ReadTrailerLine(rest, consumed);
        break;
    }
    if (ended) return *ended;
  }
  return Status::kNeedMore;
}

// ---------------------------------------------------------------------------
// Responses

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

std::string ResponseHead(const HttpResponse& response, std::size_t content_length, bool chunked, bool keep_alive) {
  std::string head;
  head.reserve(160 + response.headers.size() * 48);
  head += "HTTP/1.1 ";
  head += std::to_string(response.status);
  head += ' ';
  head += ReasonPhrase(response.status);
  head += "\r\n";
  for (const auto& [name, value] : response.headers) {
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  if (!response.content_type.empty()) {
    head += "Content-Type: ";
    head += response.content_type;
    head += "\r\n";
  }
  const bool no_body = response.status == 204 || response.status == 304 || response.status < 200;
  if (chunked) {
    head += "Transfer-Encoding: chunked\r\n";
  } else if (!no_body) {
    head += "Content-Length: ";
    head += std::to_string(content_length);
    head += "\r\n";
  }
  head += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  return head;
}

std::string ChunkSizeLine(std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string line;
  for (std::size_t n = size; n > 0; n >>= 4) line.insert(line.begin(), kHex[n & 0xF]);
  if (line.empty()) line = "0";
  line += "\r\n";
  return line;
}

std::string Chunk(std::string_view data) {
  std::string chunk = ChunkSizeLine(data.size());
  chunk.reserve(chunk.size() + data.size() + 2);
  chunk += data;
  chunk += "\r\n";  // for the last chunk: "0\r\n\r\n", no trailer
  return chunk;
}

}  // namespace csrsim::http1
