// http1: HTTP/1.1 framing as pure functions over bytes, so the server's
// connection loop (server.cpp) only moves bytes and every limit is testable
// without sockets: the request head (request line, headers) with its size
// limits, the body's framing (Content-Length or chunked) with the body limit,
// and the head of a response.
//
// Every refusal is a csrsim::Error (error.hpp): 400 malformed, 414 request line
// too long, 431 headers too large, 413 body too large. The limits are checked
// on the bytes read so far, so a request is refused while it streams in and
// never more than a limit's worth of it is held.
//
// Thread-safety: pure functions and per-connection values.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "csrsim/error.hpp"
#include "csrsim/http.hpp"

namespace csrsim::http1 {

struct Limits {
  std::size_t max_request_line = 8192;   // method + target + version (414)
  std::size_t max_header_bytes = 65536;  // the whole head, request line included (431)
  std::size_t max_headers = 100;         // header fields (431)
  std::size_t max_body_bytes = 1 << 20;  // decoded body (413)
};

enum class BodyFraming { kNone, kLength, kChunked };

struct RequestHead {
  std::string method;        // as sent; HEAD is answered like GET without a body
  std::string target;        // as sent: path and query, undecoded
  std::string path;          // percent-decoded, without the query string
  std::string query_string;  // after '?', undecoded
  int minor_version = 1;     // HTTP/1.minor_version
  std::multimap<std::string, std::string, CaseInsensitiveLess> headers;
  BodyFraming framing = BodyFraming::kNone;
  std::size_t content_length = 0;  // for kLength
  bool keep_alive = true;          // HTTP/1.1 unless "Connection: close"; 1.0 only with keep-alive
  bool expect_continue = false;    // "Expect: 100-continue"
};

// The outcome of parsing the bytes read so far.
struct HeadParse {
  enum class Status { kIncomplete, kDone, kRefused };
  Status status = Status::kIncomplete;
  std::size_t consumed = 0;    // kDone: bytes of the head, blank line included
  RequestHead head;            // kDone; on kRefused, method and path when they were read
  std::optional<Error> error;  // kRefused
};

// Parses a request head at the start of `bytes`. Leading empty lines are
// skipped. kIncomplete means "read more": no limit is passed yet.
HeadParse ParseRequestHead(std::string_view bytes, const Limits& limits);

// Incremental chunked transfer-coding decoder: feed it what arrives, it
// appends the data to `body` and stops at the body limit.
class ChunkedDecoder {
 public:
  enum class Status { kNeedMore, kDone, kRefused };
  explicit ChunkedDecoder(const Limits& limits) : limits_(limits) {}
  // Consumes a prefix of `bytes` (reported in `consumed`); kRefused sets error().
  Status Feed(std::string_view bytes, std::string& body, std::size_t& consumed);
  const std::optional<Error>& error() const { return error_; }

 private:
  enum class State { kSize, kData, kDataEnd, kTrailer };
  Status Refuse(Error error);
  // One step in each state on `rest` (what is left of the bytes fed): adds
  // what it used to `consumed`; a status ends this Feed, nothing continues it.
  std::optional<Status> ReadSizeLine(std::string_view rest, const std::string& body, std::size_t& consumed);
  void ReadData(std::string_view rest, std::string& body, std::size_t& consumed);
  std::optional<Status> ReadDataEnd(std::string_view rest, std::size_t& consumed);
  std::optional<Status> ReadTrailerLine(std::string_view rest, std::size_t& consumed);

  Limits limits_;
  State state_ = State::kSize;
  std::size_t remaining_ = 0;  // of the current chunk
  std::size_t trailer_bytes_ = 0;
  std::optional<Error> error_;
};

// "HTTP/1.1 200 OK\r\n" + headers + Content-Type + Content-Length (or
// Transfer-Encoding: chunked when `chunked`) + Connection + "\r\n".
std::string ResponseHead(const HttpResponse& response, std::size_t content_length, bool chunked, bool keep_alive);
// One chunk of a chunked body: size line, data, CRLF. Empty data is the last chunk.
std::string Chunk(std::string_view data);
// The size line that starts a chunk of `size` bytes: hex digits and CRLF.
std::string ChunkSizeLine(std::size_t size);
// The standard reason phrase; "" for a status without one here (allowed on the wire).
std::string_view ReasonPhrase(int status);

}  // namespace csrsim::http1
