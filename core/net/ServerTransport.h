#pragma once

#include "StreamSocket.h"
#include "TlsStream.h"

#include <memory>
#include <optional>
#include <type_traits>

// Opens an accepted descriptor for a server-side connection (WebSocket,
// HTTP): a TLS stream on the heap when tls is given, else the plain socket
// in its owner's own storage, which spares every plain connection an
// allocation. That storage is a std::optional<StreamSocket>, or a
// std::variant with a StreamSocket among its kinds (a WebSocket connection
// keeps its socket-thread side there instead, with --threads). Returns the
// one in use.
template<typename PlainStorage>
Transport *openServerTransport(int fd, const TlsContext *tls, QObject *owner,
    Transport::Handler *handler, PlainStorage &plain, std::unique_ptr<TlsStream> &secure)
{
    if (tls) {
        secure = std::make_unique<TlsStream>(fd, *tls, owner, handler);
        return secure.get();
    }
    if constexpr (std::is_same_v<PlainStorage, std::optional<StreamSocket>>)
        return &plain.emplace(fd, owner, handler);
    else
        return &plain.template emplace<StreamSocket>(fd, owner, handler);
}
