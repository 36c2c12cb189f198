#pragma once

#include "PeerAddress.h"

#include <QHostAddress>
#include <QObject>

#include <functional>

class QSocketNotifier;

// A listening TCP socket that hands accepted descriptors to a callback.
// QTcpServer would wrap every connection in a QTcpSocket first, which we
// do not want (see StreamSocket).
class Listener final : public QObject
{
    Q_OBJECT
public:
    using AcceptHandler = std::function<void(int fd, const PeerAddress &peer)>;

    explicit Listener(AcceptHandler handler, QObject *parent = nullptr);
    ~Listener() override;

    // Port 0 picks a free port; port() tells which.
    bool listen(const QHostAddress &address, quint16 port, QString *error);
    void close();
    bool isListening() const { return m_fd >= 0; }
    QHostAddress address() const { return m_address; }
    quint16 port() const { return m_port; }
    QString addressString() const; // "HOST:PORT"

    // Called once per accept() that failed for lack of descriptors.
    void setOverloadHandler(std::function<void()> handler) { m_overload = std::move(handler); }

private:
    void acceptReady();

    AcceptHandler m_handler;
    std::function<void()> m_overload;
    QSocketNotifier *m_notifier = nullptr;
    QHostAddress m_address;
    quint16 m_port = 0;
    int m_fd = -1;
    int m_spareFd = -1; // given up to accept-and-close when out of descriptors
};
