#pragma once

// One place that turns domain errors into HTTP answers. Client mistakes become the right 4xx
// with the domain's message; everything else becomes a 5xx whose body says nothing about
// internals (the detail goes to the log, never to the client).

#include "core/base/error.hpp"
#include "server/http/response.hpp"

namespace aloft::server::api {

int HttpStatusFor(Errc code) noexcept;
// The response for `error`; `log` receives the detail of 5xx errors.
http::Response ErrorResponse(const Error& error);
// Body parse failures and the like: always 400 with the message.
http::Response BadRequest(std::string_view message);

}  // namespace aloft::server::api
