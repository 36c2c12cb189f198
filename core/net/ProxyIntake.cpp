#include "ProxyIntake.h"

#include "MonotonicClock.h"
#include "StreamSocket.h"

#include <QSocketNotifier>

#include <cerrno>
#include <sys/socket.h>

ProxyIntake::ProxyIntake(Handler handler, QObject *parent)
    : QObject(parent)
    , m_handler(std::move(handler))
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &ProxyIntake::expire);
}

ProxyIntake::~ProxyIntake()
{
    clear();
}

void ProxyIntake::add(int fd, const PeerAddress &proxy)
{
    m_pending.push_back({fd, proxy, MonotonicClock::nowMs() + m_timeoutMs, QByteArray(), nullptr});
    const Iterator it = std::prev(m_pending.end());
    auto *notifier = new QSocketNotifier(fd, QSocketNotifier::Read, this);
    it->notifier = notifier;
    // A disabled notifier belongs to an entry that is gone.
    connect(notifier, &QSocketNotifier::activated, this, [this, it, notifier] {
        if (notifier->isEnabled())
            readable(it);
    });
    if (!m_timer.isActive())
        scheduleExpiry();
}

void ProxyIntake::clear()
{
    for (Pending &p : m_pending) {
        p.notifier->setEnabled(false);
        p.notifier->deleteLater();
        StreamSocket::resetAndClose(p.fd);
    }
    m_pending.clear();
    m_timer.stop();
}

void ProxyIntake::readable(Iterator it)
{
    char buffer[ProxyHeader::MaxSize];
    const qsizetype have = it->received.size();
    const ssize_t n = ::recv(it->fd, buffer, size_t(ProxyHeader::MaxSize - have), MSG_PEEK);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        finish(it, Outcome::Closed, ProxyHeader(), "read error before the PROXY header");
        return;
    }
    if (n == 0) {
        finish(it, Outcome::Closed, ProxyHeader(), "closed before the PROXY header");
        return;
    }
    ProxyHeader header;
    ProxyHeader::Result result;
    if (have == 0) {
        result = ProxyHeader::parse(QByteArrayView(buffer, n), &header);
    } else {
        const QByteArray joined = it->received + QByteArray::fromRawData(buffer, qsizetype(n));
        result = ProxyHeader::parse(joined, &header);
    }
    if (result == ProxyHeader::Result::Invalid) {
        finish(it, Outcome::Invalid, header, header.error);
        return;
    }
    // Take what belongs to the header and nothing more. While it is
    // incomplete, all of it does; taking it keeps a level-triggered
    // notifier from firing again at once for the same bytes.
    const qsizetype take = result == ProxyHeader::Result::Ok ? header.size - have : qsizetype(n);
    const ssize_t taken = ::recv(it->fd, buffer, size_t(take), 0);
    if (taken != ssize_t(take)) {
        finish(it, Outcome::Closed, ProxyHeader(), "read error in the PROXY header");
        return;
    }
    if (result == ProxyHeader::Result::Incomplete) {
        it->received.append(buffer, take);
        return;
    }
    finish(it, Outcome::Ok, header, "");
}

void ProxyIntake::finish(
    Iterator it, Outcome outcome, const ProxyHeader &header, const char *reason)
{
    // The notifier may be the one being activated: disable it now, delete it
    // later.
    it->notifier->setEnabled(false);
    it->notifier->deleteLater();
    const int fd = it->fd;
    const PeerAddress proxy = it->proxy;
    const bool wasFront = it == m_pending.begin();
    m_pending.erase(it);
    if (outcome != Outcome::Ok)
        StreamSocket::resetAndClose(fd);
    if (wasFront)
        scheduleExpiry();
    m_handler(outcome == Outcome::Ok ? fd : -1, proxy, outcome, header, reason);
}

void ProxyIntake::expire()
{
    const qint64 now = MonotonicClock::nowMs();
    while (!m_pending.empty() && m_pending.front().deadline <= now)
        finish(m_pending.begin(), Outcome::TimedOut, ProxyHeader(), "no PROXY header in time");
    scheduleExpiry();
}

void ProxyIntake::scheduleExpiry()
{
    if (m_pending.empty()) {
        m_timer.stop();
        return;
    }
    const qint64 wait = m_pending.front().deadline - MonotonicClock::nowMs();
    m_timer.start(int(qBound(qint64(0), wait, qint64(24) * 3600 * 1000)));
}
