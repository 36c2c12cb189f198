#pragma once

#include "HttpRequest.h"

#include <QByteArray>

// A strict, incremental parser of HTTP/1.0 and 1.1 requests (RFC 9112), fed
// whatever the socket gave. It holds at most one request head and one body,
// each bounded, and refuses what a lenient parser would have to guess about:
// obs-fold, NUL, bare CR or LF, a duplicate Content-Length, Content-Length
// with Transfer-Encoding, a missing Host in HTTP/1.1. Guessing is how
// request smuggling starts: a proxy in front and this parser must never
// disagree on where a request ends.
class HttpParser final
{
public:
    struct Limits
    {
        qint64 maxHead = 16 * 1024; // request line and fields, CRLFs included; more: 431
        qint64 maxBody = 1024 * 1024; // decoded body; more: 413 (before the body when announced)
        int maxFields = 100; // header fields; more: 431
    };
    enum class Result : quint8 {
        NeedMore, // all bytes given were used; a request is not complete yet
        HeadDone, // the head of a request with a body: request() has it; parse on
        Done, // a whole request: takeRequest()
        Error, // errorStatus(), errorMessage(); nothing after this can be read
    };

    HttpParser() = default;
    explicit HttpParser(const Limits &limits);
    void setLimits(const Limits &limits) { m_limits = limits; }

    // Parses from data; *used tells how much of it was consumed. Stops right
    // after a head (HeadDone, only when a body follows), a request (Done) or
    // an error.
    Result parse(const char *data, qint64 size, qint64 *used);
    // After HeadDone: the head (no body yet).
    const HttpRequest &request() const { return m_request; }
    // After Done; the parser is then ready for the next request.
    HttpRequest takeRequest();
    // Drops whatever was read and frees it; ready for a new request.
    void reset();

    int errorStatus() const { return m_errorStatus; }
    const QByteArray &errorMessage() const { return m_errorMessage; }

    // No byte of a request received yet (empty lines before one do not count).
    bool isIdle() const { return m_state == State::Idle && !m_pendingCr; }
    // Memory held for the request being read, in bytes allocated.
    qint64 bufferedBytes() const;

    // token chars of RFC 9110 §5.6.2 (methods, field names).
    static bool isTokenChar(char c);

private:
    enum class State : quint8 {
        Idle,
        Head,
        Body,
        ChunkSize,
        ChunkData,
        ChunkDataEnd,
        Trailer,
        Done,
        Error,
    };
    enum class Line : quint8 { NeedMore, Complete, Failed };

    Result fail(int status, const QByteArray &message);
    Result scanHead(const char *data, qint64 size, qint64 *used);
    Result parseHead();
    bool parseTarget(qsizetype at, qsizetype size);
    Line readLine(const char *data, qint64 size, qint64 *used, qint64 limit);
    Result chunkSizeLine();
    Result trailerLine();
    void appendBody(const char *data, qint64 size, qint64 cap);
    QByteArray tooLarge() const;

    Limits m_limits;
    HttpRequest m_request;
    QByteArray m_line; // a chunk-size or trailer line being read
    QByteArray m_errorMessage;
    qint64 m_remaining = 0; // body or chunk bytes still to read
    qint64 m_trailerBytes = 0;
    qsizetype m_lineLength = 0; // head: bytes of the current line, CR excluded
    int m_errorStatus = 0;
    State m_state = State::Idle;
    char m_previous = 0; // the byte before, to find bare CRs and LFs
    bool m_pendingCr = false; // Idle: a CR of an empty line, its LF still to come
    bool m_inMethod = false; // Head: still in the method, before the first space
};
