#pragma once

#include "GatewayProcess.h"

#include <QByteArray>
#include <QList>
#include <QProcess>
#include <QStringList>
#include <QTcpSocket>

#include <memory>

// For the cluster and offline tests: a real redis-server of their own and
// real gateway processes, all on loopback ports picked at run time.
namespace ClusterSupport {

// A free loopback port: bind port 0, read it, close. Redis needs a port
// number up front (it cannot report the one it picked).
quint16 freePort();

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
class RedisServer final
{
public:
    ~RedisServer();
    // Before start(): clients must AUTH with it (requirepass).
    void setPassword(const QByteArray &password) { m_password = password; }
    // Starts on port (a free one when 0) and waits until it answers PING.
    bool start(quint16 port = 0);
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
    std::unique_ptr<QProcess> m_process;
    quint16 m_port = 0;
    QByteArray m_password;
};

// pushconsole --no-gui on loopback ports 0, read back from its log.
// A gateway in another process.
using Gateway = TestSupport::GatewayProcess;

} // namespace ClusterSupport
