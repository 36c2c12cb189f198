#pragma once

#include "PeerAddress.h"

#include <QByteArrayView>

// The PROXY protocol header a load balancer (HAProxy, nginx, AWS NLB, ...)
// sends before the client's own bytes, to say whom it is relaying: version 1
// (one text line) and version 2 (binary), as HAProxy's proxy-protocol.txt
// defines them. Parsing is strict: anything the specification does not allow
// is refused, nothing is guessed.
struct ProxyHeader
{
    enum class Result {
        Ok,
        Incomplete, // every byte so far belongs to a header that is not complete yet
        Invalid,
    };
    // The specification's limit for a version 1 line, CRLF included.
    static constexpr qsizetype MaxV1Size = 107;
    // A version 2 header with its TLVs; the field allows 64 KiB, real ones
    // are a few dozen bytes (nginx has the same limit).
    static constexpr qsizetype MaxSize = 4096;

    int version = 0; // 1 or 2
    // False for a health check (v2 LOCAL), "PROXY UNKNOWN", and v2 UNSPEC
    // or UNIX addresses: the connection's own address applies then.
    bool hasAddress = false;
    PeerAddress source; // the client, when hasAddress
    PeerAddress destination;
    qsizetype size = 0; // bytes the header took, when Ok
    const char *error = ""; // when Invalid: short English text

    // Never reads past data, never needs more than MaxSize bytes.
    static Result parse(QByteArrayView data, ProxyHeader *out);
};
