#include "csrsim/http.hpp"

#include <algorithm>
#include <new>

#include "csrsim/encoding.hpp"
#include "csrsim/error.hpp"
#include "csrsim/log.hpp"

namespace csrsim {

bool CaseInsensitiveLess::operator()(const std::string& a, const std::string& b) const {
  std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto ca = static_cast<unsigned char>(AsciiLower(a[i]));
    const auto cb = static_cast<unsigned char>(AsciiLower(b[i]));
    if (ca != cb) return ca < cb;
  }
  return a.size() < b.size();
}

std::optional<std::string> HttpRequest::Header(const std::string& name) const {
  auto it = headers.find(name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> HttpRequest::Query(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

void LogInternalError(const HttpRequest& request, std::string_view what) {
  ProcessLog().Error("internal_error", {{"method", request.method}, {"path", request.path}, {"error", what}});
}

Error CurrentError(const HttpRequest& request, bool log) {
  try {
    throw;
  } catch (const Error& error) {
    return error;
  } catch (const std::bad_alloc&) {
    if (log) LogInternalError(request, "out of memory");
    return Error::OutOfMemory();
  } catch (const std::exception& error) {
    if (log) LogInternalError(request, error.what());
  } catch (...) {
    if (log) LogInternalError(request, "unknown exception");
  }
  return Error::Internal();
}

HttpResponse HttpResponse::Xml(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.content_type = "application/xml";
  return response;
}

HttpResponse HttpResponse::Json(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  response.content_type = "application/json";
  return response;
}

HttpResponse HttpResponse::Empty(int status) {
  HttpResponse response;
  response.status = status;
  return response;
}

namespace {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) segments.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return segments;
}

}  // namespace

void Router::Add(std::string method, std::string_view pattern, Handler handler) {
  Route route;
  route.method = std::move(method);
  for (auto segment : SplitPath(pattern)) route.segments.emplace_back(segment);
  route.handler = std::move(handler);
  routes_.push_back(std::move(route));
}

std::optional<HttpResponse> Router::Dispatch(HttpRequest& request) const {
  auto segments = SplitPath(request.path);
  bool path_matched = false;
  for (const auto& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    bool match = true;
    for (std::size_t i = 0; i < segments.size() && match; ++i) {
      match = route.segments[i] == "*" || route.segments[i] == segments[i];
    }
    if (!match) continue;
    path_matched = true;
    if (route.method != request.method) continue;
    request.path_params.clear();
    for (std::size_t i = 0; i < segments.size(); ++i) {
      if (route.segments[i] == "*") request.path_params.emplace_back(segments[i]);
    }
    return route.handler(request);
  }
  if (path_matched && method_not_allowed_) return method_not_allowed_(request);
  return std::nullopt;
}

}  // namespace csrsim
