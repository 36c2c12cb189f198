#include "ClusterSupport.h"

#include "TestSupport.h"

#include <QRegularExpression>
#include <QTcpServer>

#include <csignal>

namespace ClusterSupport {

namespace {

// Reads one RESP value from buf at pos; false when incomplete.
bool skipReply(const QByteArray &buf, qsizetype &pos)
{
    const qsizetype eol = buf.indexOf("\r\n", pos);
    if (eol < 0 || pos >= buf.size())
        return false;
    const char type = buf[pos];
    const qint64 n = buf.mid(pos + 1, eol - pos - 1).toLongLong();
    pos = eol + 2;
    switch (type) {
    case '$':
        if (n < 0)
            return true;
        if (buf.size() < pos + n + 2)
            return false;
        pos += n + 2;
        return true;
    case '*':
        for (qint64 i = 0; i < n; ++i) {
            if (!skipReply(buf, pos))
                return false;
        }
        return true;
    default:
        return true;
    }
}

} // namespace

quint16 freePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

RedisConnection::RedisConnection(quint16 port, const QByteArray &password)
{
    m_socket.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
    TestSupport::waitFor(
        [&] {
            return m_socket.state() == QAbstractSocket::ConnectedState
                || m_socket.state() == QAbstractSocket::UnconnectedState;
        },
        2000);
    if (!password.isEmpty() && command({"AUTH", password}) != "+OK\r\n")
        m_socket.abort();
}

QByteArray RedisConnection::command(const QList<QByteArray> &args)
{
    if (!isConnected())
        return {};
    QByteArray request = '*' + QByteArray::number(args.size()) + "\r\n";
    for (const QByteArray &a : args)
        request += '$' + QByteArray::number(a.size()) + "\r\n" + a + "\r\n";
    m_socket.write(request);
    QByteArray reply;
    const bool complete = TestSupport::waitFor(
        [&] {
            reply += m_socket.readAll();
            qsizetype pos = 0;
            return skipReply(reply, pos) && pos == reply.size();
        },
        5000);
    return complete ? reply : QByteArray();
}

qint64 RedisConnection::integer(const QList<QByteArray> &args)
{
    const QByteArray reply = command(args);
    if (!reply.startsWith(':'))
        return -1;
    return reply.mid(1).trimmed().toLongLong();
}

RedisServer::~RedisServer()
{
    stop();
}

bool RedisServer::start(quint16 port)
{
    if (port == 0)
        port = m_port ? m_port : freePort();
    m_port = port;
    m_process = std::make_unique<QProcess>();
    m_process->setProcessChannelMode(QProcess::MergedChannels);
    QStringList args = {QStringLiteral("--port"), QString::number(port), QStringLiteral("--bind"),
        QStringLiteral("127.0.0.1"), QStringLiteral("--save"), QString(),
        QStringLiteral("--appendonly"), QStringLiteral("no"), QStringLiteral("--protected-mode"),
        QStringLiteral("yes")};
    if (!m_password.isEmpty())
        args << QStringLiteral("--requirepass") << QString::fromUtf8(m_password);
    m_process->start(QStringLiteral("redis-server"), args);
    if (!m_process->waitForStarted(5000)) {
        qWarning("cannot start redis-server: %s", qPrintable(m_process->errorString()));
        return false;
    }
    const bool up = TestSupport::waitFor(
        [&] {
            return command({"PING"}) == "+PONG\r\n" || m_process->state() == QProcess::NotRunning;
        },
        10000);
    if (!up || m_process->state() == QProcess::NotRunning) {
        qWarning("redis-server did not come up: %s", m_process->readAll().constData());
        return false;
    }
    return true;
}

void RedisServer::stop()
{
    if (!m_process)
        return;
    if (m_process->state() != QProcess::NotRunning) {
        m_process->terminate();
        if (!m_process->waitForFinished(5000)) {
            m_process->kill();
            m_process->waitForFinished(5000);
        }
    }
    m_process.reset();
}

bool RedisServer::isRunning() const
{
    return m_process && m_process->state() == QProcess::Running;
}

QString RedisServer::url() const
{
    return QStringLiteral("redis://127.0.0.1:%1").arg(m_port);
}

QByteArray RedisServer::command(const QList<QByteArray> &args) const
{
    RedisConnection connection(m_port, m_password);
    return connection.command(args);
}

qint64 RedisServer::integer(const QList<QByteArray> &args) const
{
    const QByteArray reply = command(args);
    if (!reply.startsWith(':'))
        return -1;
    return reply.mid(1).trimmed().toLongLong();
}

} // namespace ClusterSupport
