#include "cli/aloftctl/client/api_client.hpp"

#include "core/base/percent_encode.hpp"

namespace aloft::cli::aloftctl::client {
namespace {

namespace http = platform::http;
using core::codec::Json;

Refusal RefusalOf(const http::ManagementResponse& response, const Json& body) {
  Refusal r;
  r.status = response.status;
  if (const Json* error = body.Find("error")) {
    if (const Json* code = error->Find("code"); code != nullptr && code->IsString()) {
      r.code = code->AsString();
    }
    if (const Json* msg = error->Find("message"); msg != nullptr && msg->IsString()) {
      r.message = msg->AsString();
    }
  }
  return r;
}

}  // namespace

std::string Segment(std::string_view text) { return PercentEncodeFileName(text); }

Error RefusalError(std::string_view what, const Refusal& refusal) {
  std::string text = "aloftd refused " + std::string(what) + " (HTTP " +
                     std::to_string(refusal.status) +
                     (refusal.code.empty() ? "" : " " + refusal.code) + ")";
  if (!refusal.message.empty()) text += ": " + refusal.message;
  Errc code = Errc::kInvalidArgument;
  switch (refusal.status) {
    case 401:
      text += " (log in again: aloftctl login, or set ALOFT_TOKEN)";
      break;
    case 403:
      if (refusal.code == "forbidden") text += " (your role lacks the permission)";
      break;
    case 404:
      code = Errc::kNotFound;
      break;
    case 409:
      code = Errc::kAlreadyExists;
      break;
    case 413:
      code = Errc::kTooLarge;
      break;
    case 429:
      code = Errc::kUnavailable;
      text += " (too many requests; wait and retry)";
      break;
    default:
      break;
  }
  return Error(code, std::move(text));
}

Result<std::unique_ptr<ApiClient>> ApiClient::Create(ApiOptions options) {
  while (!options.server.empty() && options.server.back() == '/') options.server.pop_back();
  if (options.server.empty()) {
    return Fail(Errc::kInvalidArgument,
                "no server: pass --server URL, set ALOFT_SERVER, or log in first");
  }
  if (Status s = http::CheckUrlAllowed(options.server, options.allow_insecure_loopback); !s) {
    return Fail(s.error());
  }
  http::ManagementClientOptions http_options;
  http_options.ca_file = options.ca_file;
  http_options.allow_insecure_loopback = options.allow_insecure_loopback;
  auto client = http::ManagementClient::Create(std::move(http_options));
  if (!client) return Fail(client.error());
  return std::unique_ptr<ApiClient>(new ApiClient(std::move(*client), std::move(options)));
}

std::string ApiClient::Url(std::string_view path) const {
  return options_.server + std::string(path);
}

Result<ApiReply> ApiClient::Exchange(http::ManagementRequest request, bool with_token) {
  if (with_token) {
    if (options_.token.empty()) {
      return Fail(Errc::kInvalidArgument, "not logged in to " + options_.server +
                                              ": run `aloftctl login` or set ALOFT_TOKEN");
    }
    request.headers.emplace_back("Authorization", "Bearer " + options_.token);
  }
  auto response = http_->Send(request);
  if (!response) return Fail(response.error());
  ApiReply reply;
  reply.status = response->status;
  if (!response->body.empty()) {
    auto parsed = core::codec::ParseJson(response->body);
    if (parsed) {
      reply.body = std::move(*parsed);
    } else if (response->ok()) {
      return Fail(Errc::kUnavailable, std::string(http::HttpMethodName(request.method)) + " " +
                                          request.url + ": the answer is not JSON (" +
                                          parsed.error().message() + ")");
    }
  }
  reply.raw = std::move(*response);
  return reply;
}

Error ApiClient::Refuse(std::string_view what, const ApiReply& reply) {
  if (reply.status < 400 || reply.status >= 500) {
    // 5xx is the server's trouble; 1xx/3xx are never part of this API (no redirects).
    return Error(Errc::kUnavailable, "aloftd answered " + std::string(what) + " with HTTP " +
                                         std::to_string(reply.status) +
                                         "; check the server's log and --server, and retry");
  }
  refusal_ = RefusalOf(reply.raw, reply.body);
  return RefusalError(what, *refusal_);
}

Result<Json> ApiClient::Call(http::ManagementRequest request) {
  const std::string what = std::string(http::HttpMethodName(request.method)) + " " +
                           request.url.substr(std::min(options_.server.size(), request.url.size()));
  auto reply = Exchange(std::move(request), true);
  if (!reply) return Fail(reply.error());
  if (reply->status >= 200 && reply->status < 300) {
    refusal_.reset();
    return std::move(reply->body);
  }
  return Fail(Refuse(what, *reply));
}

Result<Json> ApiClient::Get(std::string_view path) {
  http::ManagementRequest request;
  request.method = http::HttpMethod::kGet;
  request.url = Url(path);
  return Call(std::move(request));
}

Result<Json> ApiClient::Post(std::string_view path, const Json& body) {
  http::ManagementRequest request;
  request.method = http::HttpMethod::kPost;
  request.url = Url(path);
  request.body = core::codec::DumpJson(body);
  return Call(std::move(request));
}

Result<Json> ApiClient::Put(std::string_view path, const Json& body) {
  http::ManagementRequest request;
  request.method = http::HttpMethod::kPut;
  request.url = Url(path);
  request.body = core::codec::DumpJson(body);
  return Call(std::move(request));
}

Result<Json> ApiClient::Delete(std::string_view path) {
  http::ManagementRequest request;
  request.method = http::HttpMethod::kDelete;
  request.url = Url(path);
  return Call(std::move(request));
}

Result<Json> ApiClient::PutBytes(std::string_view path, std::string body,
                                 std::string content_type) {
  http::ManagementRequest request;
  request.method = http::HttpMethod::kPut;
  request.url = Url(path);
  request.body = std::move(body);
  request.content_type = std::move(content_type);
  return Call(std::move(request));
}

Result<Json> ApiClient::PutFile(std::string_view path, const std::filesystem::path& file,
                                http::UploadProgress progress) {
  http::ManagementRequest request;
  request.method = http::HttpMethod::kPut;
  request.url = Url(path);
  request.body_file = file;
  request.content_type = "application/octet-stream";
  request.upload_progress = std::move(progress);
  return Call(std::move(request));
}

Status ApiClient::Download(std::string_view path, core::io::Writer& sink) {
  http::ManagementRequest request;
  request.method = http::HttpMethod::kGet;
  request.url = Url(path);
  request.response_sink = &sink;
  auto result = Call(std::move(request));
  if (!result) return Fail(result.error());
  return Ok();
}

}  // namespace aloft::cli::aloftctl::client
