#pragma once

#include "StreamSocket.h"
#include "TlsStream.h"

#include <memory>
#include <optional>

// Opens an accepted descriptor for a server-side connection (WebSocket,
// HTTP): a TLS stream on the heap when tls is given, else the plain socket
// in its owner's own storage, which spares every plain connection an
// allocation. Returns the one in use.
inline Transport *openServerTransport(int fd, const TlsContext *tls, QObject *owner,
    Transport::Handler *handler, std::optional<StreamSocket> &plain,
    std::unique_ptr<TlsStream> &secure)
{
    if (tls) {
        secure = std::make_unique<TlsStream>(fd, *tls, owner, handler);
        return secure.get();
    }
    plain.emplace(fd, owner, handler);
    return &*plain;
}
