#include "TlsStream.h"

#include "TlsContext.h"

#include <QSslSocket>

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <unistd.h>

TlsStream::TlsStream(int fd, const TlsContext &context, QObject *parent, Handler *handler)
    : QObject(parent)
    , m_socket(new QSslSocket(this))
    , m_handler(handler)
{
    // Bounds what Qt buffers for us; we read all of it on every readyRead.
    m_socket->setReadBufferSize(256 * 1024);
    m_socket->setSslConfiguration(context.configuration());
    if (!m_socket->setSocketDescriptor(fd)) {
        ::close(fd);
        m_failed = true;
        m_error = m_socket->errorString();
        return;
    }
    connect(m_socket, &QSslSocket::readyRead, this, [this] {
        if (m_readEnabled)
            m_handler->socketReadable();
    });
    connect(m_socket, &QSslSocket::encryptedBytesWritten, this, [this] {
        if (pendingBytes() == 0)
            m_handler->socketDrained();
    });
    connect(m_socket, &QSslSocket::disconnected, this, [this] { m_handler->socketReadable(); });
    connect(m_socket, &QSslSocket::errorOccurred, this, [this](QAbstractSocket::SocketError e) {
        if (e == QAbstractSocket::RemoteHostClosedError)
            return; // an ordinary end of stream, seen by read()
        m_failed = true;
        m_error = m_socket->errorString();
        m_handler->socketReadable();
    });
    m_socket->startServerEncryption();
}

TlsStream::~TlsStream()
{
    detach();
}

void TlsStream::detach()
{
    // After this the socket can no longer call back into a connection that
    // is going away.
    m_detached = true;
    disconnect(m_socket, nullptr, this, nullptr);
}

bool TlsStream::isOpen() const
{
    return !m_failed && m_socket->state() == QAbstractSocket::ConnectedState;
}

qint64 TlsStream::read(char *buffer, qint64 size)
{
    if (m_failed)
        return Failed;
    if (m_socket->bytesAvailable() > 0)
        return m_socket->read(buffer, size);
    if (m_socket->state() != QAbstractSocket::ConnectedState)
        return 0;
    return WouldBlock;
}

bool TlsStream::write(QByteArrayView head, const QByteArray &payload)
{
    if (!isOpen())
        return false;
    const qint64 slack = pendingBytes() == 0 ? BufferSlack : 0;
    if (queuedMemory() + slack + head.size() + payload.size() + RecordOverhead > m_maxPending)
        return false;
    m_socket->write(head.data(), head.size());
    if (!payload.isEmpty())
        m_socket->write(payload);
    return true;
}

qint64 TlsStream::pendingBytes() const
{
    return m_socket->bytesToWrite() + m_socket->encryptedBytesToWrite();
}

qint64 TlsStream::queuedMemory() const
{
    // The encrypted copy is per connection: TLS shares nothing between
    // clients, so a broadcast costs its payload once per client here.
    const qint64 pending = pendingBytes();
    return pending > 0 ? pending + BufferSlack : 0;
}

qint64 TlsStream::unacknowledgedBytes() const
{
    int inKernel = 0;
    const qintptr fd = m_socket->socketDescriptor();
    if (fd < 0 || ::ioctl(int(fd), SIOCOUTQ, &inKernel) != 0)
        inKernel = 0;
    return pendingBytes() + inKernel;
}

void TlsStream::setReadEnabled(bool enabled)
{
    const bool resumed = enabled && !m_readEnabled;
    m_readEnabled = enabled;
    if (resumed)
        notifyPendingInput();
}

bool TlsStream::isEncrypted() const
{
    return m_socket->isEncrypted();
}

qint64 TlsStream::bufferedInput() const
{
    return m_socket->bytesAvailable();
}

void TlsStream::reattach(QObject *parent, Handler *handler)
{
    setParent(parent);
    m_handler = handler;
    notifyPendingInput();
}

void TlsStream::notifyPendingInput()
{
    // Queued, with this stream as the context: never a call into a handler
    // in the middle of what it is doing, and none once the stream is gone.
    QMetaObject::invokeMethod(
        this,
        [this] {
            if (m_readEnabled && !m_detached
                && (m_failed || m_socket->bytesAvailable() > 0
                    || m_socket->state() != QAbstractSocket::ConnectedState))
                m_handler->socketReadable();
        },
        Qt::QueuedConnection);
}

void TlsStream::shutdownWrite()
{
    // Sends TLS close_notify after what is queued; TLS has no half-close.
    m_socket->disconnectFromHost();
}

void TlsStream::abort()
{
    detach();
    m_socket->abort();
}
