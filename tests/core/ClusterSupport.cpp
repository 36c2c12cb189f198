#include "ClusterSupport.h"

#include "TestSupport.h"

#include <QFile>
#include <QRandomGenerator>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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

// A random port below the kernel's ephemeral range: no port-0 bind and no
// outgoing connection of another test can land on it (nor connect to
// itself through it), only a server with a fixed port.
quint16 randomPort()
{
    int low = 32768;
    QFile range(QStringLiteral("/proc/sys/net/ipv4/ip_local_port_range"));
    if (range.open(QIODevice::ReadOnly))
        low = qBound(2048, range.readAll().simplified().split(' ').front().toInt(), 65535);
    return quint16(QRandomGenerator::global()->bounded(1024, low));
}

ClosedPort::ClosedPort()
{
    for (int attempt = 0; attempt < 100 && m_fd < 0; ++attempt) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return;
        sockaddr_in address = {};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const quint16 port = randomPort();
        address.sin_port = htons(port);
        // No SO_REUSEADDR: redis-server's bind (which sets it) fails on it.
        if (::bind(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) == 0) {
            m_fd = fd;
            m_port = port;
        } else {
            ::close(fd);
        }
    }
    if (m_fd < 0)
        qWarning("ClosedPort: no port could be bound");
}

ClosedPort::~ClosedPort()
{
    if (m_fd >= 0)
        ::close(m_fd);
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
    m_placeholder.reset();
}

bool RedisServer::start()
{
    if (m_port != 0) {
        // A restart: the port was held since stop(); the gateways know it.
        m_placeholder.reset();
        if (launch(m_port) == Launch::Up)
            return true;
        qWarning("redis-server cannot start again on port %d", int(m_port));
        return false;
    }
    for (int attempt = 1; attempt <= 20; ++attempt) {
        const quint16 port = randomPort();
        switch (launch(port)) {
        case Launch::Up:
            m_port = port;
            return true;
        case Launch::PortInUse:
            continue; // taken by something else: another port
        case Launch::Failed:
            return false;
        }
    }
    qWarning("redis-server: 20 ports in a row were in use");
    return false;
}

RedisServer::Launch RedisServer::launch(quint16 port)
{
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
        qWarning("cannot start redis-server (%s): %s",
            TestSupport::missingProgram(QStringLiteral("redis-server")).constData(),
            qPrintable(m_process->errorString()));
        return Launch::Failed;
    }
    // Its log says when it listens, or why it cannot.
    QByteArray log;
    const bool settled = TestSupport::waitFor(
        [&] {
            log += m_process->readAll();
            return log.contains("Ready to accept connections")
                || m_process->state() == QProcess::NotRunning;
        },
        10000);
    log += m_process->readAll();
    if (settled && m_process->state() == QProcess::NotRunning
        && log.contains("Address already in use")) {
        m_process.reset();
        return Launch::PortInUse;
    }
    m_port = port; // command() talks to it
    const bool up = settled && m_process->state() == QProcess::Running
        && TestSupport::waitFor([&] { return command({"PING"}) == "+PONG\r\n"; }, 5000);
    if (!up) {
        qWarning("redis-server did not come up on port %d: %s", int(port), log.constData());
        return Launch::Failed;
    }
    return Launch::Up;
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
    if (m_port == 0)
        return;
    m_placeholder = std::make_unique<QTcpServer>();
    QTcpServer *placeholder = m_placeholder.get();
    // QTcpServer sets SO_REUSEADDR: the connections Redis closed linger in
    // TIME_WAIT on this port.
    if (!placeholder->listen(QHostAddress(QHostAddress::LocalHost), m_port))
        qWarning("cannot hold port %d: %s", int(m_port), qPrintable(placeholder->errorString()));
    QObject::connect(placeholder, &QTcpServer::newConnection, placeholder, [placeholder] {
        while (QTcpSocket *s = placeholder->nextPendingConnection()) {
            const linger reset = {1, 0}; // close with RST, like a refused connect
            ::setsockopt(int(s->socketDescriptor()), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
            s->abort();
            s->deleteLater();
        }
    });
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
