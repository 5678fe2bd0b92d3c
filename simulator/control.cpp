#include "csrsim/control.hpp"
namespace csrsim {
ControlApi::ControlApi(Runtime& runtime) : runtime_(runtime) { AddRoutes(); }
std::optional<HttpResponse> ControlApi::Handle(HttpRequest& request) {
  if (request.path.rfind("/_sim", 0) != 0) return std::nullopt;
  if (auto response = router_.Dispatch(request)) return response;
  return HttpResponse::Empty(404);
}
void ControlApi::AddRoutes() {}
}  // namespace csrsim
