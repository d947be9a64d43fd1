#pragma once
// The status line and header block of a response, as bytes on the wire.
//
// The server writes in-memory responses as this head plus the body in one write, rather than
// through Beast's message and serializer: those copy every field into a node of a red-black
// tree and walk a chain of buffer views to send them again, about 5% of the CPU of a device
// check-in. Large file bodies still go through Beast's serializer (server.cpp).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/http/response.hpp"

namespace aloft::server::http {

// The reason phrase for `status` ("OK", "Not Found", ...); "Unknown" for codes we never send.
std::string_view ReasonPhrase(int status) noexcept;

// Whether a response with this status carries no body and no Content-Length (RFC 9110: 1xx,
// 204 No Content, 304 Not Modified).
bool StatusHasNoContent(int status) noexcept;

// Whether a field may be written as it is: its name is an RFC 9110 token and its value holds
// no CR, LF or NUL. Anything else would let a header's value end the head early (response
// splitting).
bool IsWritableField(std::string_view name, std::string_view value) noexcept;

// Appends "HTTP/1.1 <status> <reason>\r\n", the response's fields, "Content-Length: N" (unless
// the status has no content: then the body must be empty), "Connection: close" when
// !keep_alive, and the blank line to `out`. `content_length` is the body's size even for a
// HEAD answer, which sends none.
//
// The framing fields are the server's alone: a Content-Length, Transfer-Encoding or
// Connection field the handler set is left out, and so is any field that is not
// IsWritableField. Returns how many fields were left out for being malformed, for the caller
// to log.
std::size_t AppendResponseHead(const Response& response, std::uint64_t content_length,
                               bool keep_alive, std::string& out);

}  // namespace aloft::server::http
