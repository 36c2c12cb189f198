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
    m_process->start(QStringLiteral("redis-server"),
        {QStringLiteral("--port"), QString::number(port), QStringLiteral("--bind"),
            QStringLiteral("127.0.0.1"), QStringLiteral("--save"), QString(),
            QStringLiteral("--appendonly"), QStringLiteral("no"),
            QStringLiteral("--protected-mode"), QStringLiteral("yes")});
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
    QTcpSocket socket;
    socket.connectToHost(QHostAddress(QHostAddress::LocalHost), m_port);
    if (!TestSupport::waitFor(
            [&] {
                return socket.state() == QAbstractSocket::ConnectedState
                    || socket.state() == QAbstractSocket::UnconnectedState;
            },
            2000)
        || socket.state() != QAbstractSocket::ConnectedState)
        return {};
    QByteArray request = '*' + QByteArray::number(args.size()) + "\r\n";
    for (const QByteArray &a : args)
        request += '$' + QByteArray::number(a.size()) + "\r\n" + a + "\r\n";
    socket.write(request);
    QByteArray reply;
    const bool complete = TestSupport::waitFor(
        [&] {
            reply += socket.readAll();
            qsizetype pos = 0;
            return skipReply(reply, pos) && pos == reply.size();
        },
        5000);
    return complete ? reply : QByteArray();
}

qint64 RedisServer::integer(const QList<QByteArray> &args) const
{
    const QByteArray reply = command(args);
    if (!reply.startsWith(':'))
        return -1;
    return reply.mid(1).trimmed().toLongLong();
}

} // namespace ClusterSupport
