#pragma once

#include "GatewayProcess.h"

#include <QByteArray>
#include <QList>
#include <QProcess>
#include <QStringList>
#include <QTcpServer>
#include <QTcpSocket>

#include <memory>

// For the cluster and offline tests: a real redis-server of their own and
// real gateway processes, all on loopback ports picked at run time.
namespace ClusterSupport {

// A loopback port nobody listens on, kept so for the object's lifetime: a
// socket bound to it and never listening holds it, and a connect to it is
// refused. For "a Redis that is not there".
class ClosedPort final
{
public:
    ClosedPort();
    ~ClosedPort();
    ClosedPort(const ClosedPort &) = delete;
    ClosedPort &operator=(const ClosedPort &) = delete;
    quint16 port() const { return m_port; }

private:
    int m_fd = -1;
    quint16 m_port = 0;
};

// One connection to Redis kept open, for commands that must get through
// while new connections are refused (CONFIG SET maxclients).
class RedisConnection final
{
public:
    RedisConnection(quint16 port, const QByteArray &password = QByteArray());
    bool isConnected() const { return m_socket.state() == QAbstractSocket::ConnectedState; }
    // The reply in RESP as it came, e.g. ":1\r\n"; empty on failure.
    QByteArray command(const QList<QByteArray> &args);
    // Convenience for integer replies; -1 on anything else.
    qint64 integer(const QList<QByteArray> &args);

private:
    QTcpSocket m_socket;
};

// redis-server on loopback, no persistence, stopped with the object.
//
// Redis needs its port number up front. No port is free for sure: another
// test running at the same time may take any port between a check and
// redis-server's bind. So the port is a random one below the range the
// kernel hands out itself (port 0, outgoing connections), and when
// redis-server says the port is in use, it starts again on another. While
// stopped, the port stays held for the restart.
class RedisServer final
{
public:
    ~RedisServer();
    // Before start(): clients must AUTH with it (requirepass).
    void setPassword(const QByteArray &password) { m_password = password; }
    // The first start picks the port; after stop(), start() again runs on
    // the same one (the gateways were told its URL). Waits until it
    // answers PING.
    bool start();
    // SIGTERM and wait; the port stays ours for a restart.
    void stop();
    bool isRunning() const;
    quint16 port() const { return m_port; }
    qint64 processId() const { return m_process ? m_process->processId() : 0; }
    QString url() const;
    // One command over a fresh connection, with its reply in RESP as it
    // came, e.g. ":1\r\n" or "*2\r\n$1\r\na\r\n...". Empty on failure.
    QByteArray command(const QList<QByteArray> &args) const;
    // Convenience for integer replies; -1 on anything else.
    qint64 integer(const QList<QByteArray> &args) const;

private:
    enum class Launch { Up, PortInUse, Failed };
    Launch launch(quint16 port);

    std::unique_ptr<QProcess> m_process;
    // While stopped: a listener on the port that resets every connection at
    // once (as near to "nothing listens" as a held port gets), so that no
    // other test's Redis takes the port before the restart.
    std::unique_ptr<QTcpServer> m_placeholder;
    quint16 m_port = 0;
    QByteArray m_password;
};

// pushconsole --no-gui on loopback ports 0, read back from its log.
// A gateway in another process.
using Gateway = TestSupport::GatewayProcess;

} // namespace ClusterSupport
