#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QSslCertificate>
#include <QTimer>
#include <QUrl>

#include <functional>

class QSslSocket;

// Asks a gateway for the admin stream once more and reads only the status
// of its answer. QWebSocket says "HTTP 401" or "404" in its error text but
// not "400", which a gateway answers when it speaks none of the protocol
// versions offered; this tells them apart. The connection is closed as soon
// as the status line is in, whatever it says.
class HandshakeProbe final : public QObject
{
    Q_OBJECT
public:
    // done gets the HTTP status, or 0 when none came (unreachable, not
    // HTTP, timed out); it runs once, unless the probe is deleted first.
    HandshakeProbe(const QUrl &streamUrl, const QByteArray &key, const QByteArray &subprotocol,
        const QList<QSslCertificate> &ca, std::function<void(int status)> done,
        QObject *parent = nullptr);

private:
    void finish(int status);

    QSslSocket *m_socket;
    QByteArray m_received;
    QTimer m_timeout;
    std::function<void(int)> m_done;
};
