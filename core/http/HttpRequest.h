#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QVarLengthArray>

#include <utility>

// One HTTP/1.x request as HttpParser read it. The head is kept as received,
// in one buffer, and every part of it is a view into that buffer: parsing
// allocates once for the head and once for the body.
class HttpRequest final
{
public:
    QByteArrayView method() const { return view(m_method); } // e.g. "GET", case-sensitive
    // The origin form "/path?query" (an absolute-form target's path and query).
    QByteArrayView target() const { return view(m_target); }
    QByteArrayView path() const { return view(m_path); } // still percent-encoded
    QByteArrayView query() const { return view(m_query); } // without the '?'
    // Whom the request is for: an absolute-form target's authority, else the
    // Host field; empty when there is neither (HTTP/1.0).
    QByteArrayView authority() const;
    int minorVersion() const { return m_minor; } // HTTP/1.0 or HTTP/1.1
    bool isHead() const { return method() == "HEAD"; }

    // The value (white space around it removed) of the first field named
    // `name`, compared without case; a null view when there is none.
    QByteArrayView header(QByteArrayView name) const;
    int headerCount(QByteArrayView name) const;
    qsizetype fieldCount() const { return m_fields.size(); }
    QByteArrayView fieldName(qsizetype i) const { return view(m_fields[i].first); }
    QByteArrayView fieldValue(qsizetype i) const { return view(m_fields[i].second); }

    // Whether the connection may serve another request after this one.
    bool keepAlive() const { return m_keepAlive; }
    bool expectsContinue() const { return m_expectContinue; }
    bool isChunked() const { return m_chunked; }
    qint64 contentLength() const { return m_contentLength; } // -1: none given
    // Whether a body follows the head.
    bool hasBody() const { return m_chunked || m_contentLength > 0; }

    QByteArray body;

private:
    friend class HttpParser;
    struct Span
    {
        qsizetype at = 0;
        qsizetype size = 0;
    };
    QByteArrayView view(Span s) const { return QByteArrayView(m_head.constData() + s.at, s.size); }

    QByteArray m_head; // the request line and fields, CRLFs included
    Span m_method;
    Span m_target;
    Span m_path;
    Span m_query;
    Span m_authority; // absolute form only
    QVarLengthArray<std::pair<Span, Span>, 8> m_fields;
    qint64 m_contentLength = -1;
    int m_minor = 1;
    bool m_keepAlive = true;
    bool m_expectContinue = false;
    bool m_chunked = false;
    bool m_absoluteForm = false;
};
