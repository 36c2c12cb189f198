#include "FanOut.h"

#include "Metrics.h"
#include "SessionRegistry.h"

#include <QTimerEvent>

#include <utility>

FanOut::FanOut(SessionRegistry *registry, Metrics *metrics, QObject *parent)
    : QObject(parent)
    , m_registry(registry)
    , m_metrics(metrics)
{ }

FanOut::~FanOut() = default;

void FanOut::start(bool broadcast, QList<QByteArray> uids, QByteArrayView header,
    const QByteArray &payload, Finished finished)
{
    auto job = std::make_unique<Job>();
    // Numbered now: whoever binds from here on is not a target.
    job->number = m_registry->newFanOut();
    job->broadcast = broadcast;
    if (!broadcast) {
        job->members = QSet<QByteArray>(uids.cbegin(), uids.cend());
        job->uids = std::move(uids);
    }
    job->header = header.toByteArray();
    job->payload = payload; // shared, never copied
    job->finished = std::move(finished);
    job->cost = costOf(*job);
    m_pendingBytes += job->cost;
    const bool first = m_jobs.empty();
    m_jobs.push_back(std::move(job));
    if (m_running)
        return; // the run under way goes on to it
    if (m_pendingBytes > m_slice.maxPendingBytes)
        finishAll();
    // Behind another one it waits its turn; alone it starts at once, so a
    // fan-out is no later than it would have been unsliced.
    else if (first)
        run(false);
}

qint64 FanOut::costOf(const Job &job)
{
    // The job, its frame (shared with the caller, but kept alive by it),
    // and each uid twice (list and set), with the allocator's overhead.
    constexpr qint64 PerUid = 2 * (sizeof(QByteArray) + 32);
    qint64 cost = sizeof(Job) + 64 + job.header.size() + job.payload.size();
    for (const QByteArray &uid : job.uids)
        cost += PerUid + uid.size();
    return cost;
}

void FanOut::run(bool all)
{
    const bool nested = std::exchange(m_running, true);
    const Clock::time_point started = Clock::now();
    int written = 0;
    unsigned steps = 0;
    while (!m_jobs.empty()) {
        Job &job = *m_jobs.front();
        if (job.broadcast && !job.begun) {
            m_registry->beginWalk();
            job.begun = true;
        }
        bool done = false;
        for (;;) {
            if (!all) {
                if (written >= m_slice.connections)
                    break;
                // A clock read costs about as much as a few frames' user time.
                if ((++steps & 15) == 0 && Clock::now() - started >= m_slice.budget)
                    break;
            }
            if (job.broadcast) {
                WsConnection *c = m_registry->walkNext();
                if (!c) {
                    done = true;
                    break;
                }
                // Bound after the start, or settled ahead of its turn: skipped.
                if (c->fanOutMark() < job.number) {
                    send(job, c);
                    ++written;
                }
            } else {
                if (job.next == job.uids.size()) {
                    done = true;
                    break;
                }
                const QByteArray &uid = job.uids.at(job.next++);
                if (const SessionRegistry::Connections *list = m_registry->connections(uid)) {
                    for (WsConnection *c : *list) {
                        if (c->fanOutMark() < job.number) {
                            send(job, c);
                            ++written;
                        }
                    }
                }
            }
        }
        if (!done)
            break;
        finishFront(); // may start another fan-out
    }
    m_running = nested;
    if (m_jobs.empty())
        m_timer.stop();
    else if (!m_timer.isActive())
        m_timer.start(0, this);
}

void FanOut::send(Job &job, WsConnection *c)
{
    c->setFanOutMark(job.number);
    if (c->sendFrame(job.header, job.payload))
        ++job.delivered;
    else
        ++job.dropped;
}

void FanOut::catchUp(WsConnection *c)
{
    const quint64 mark = c->fanOutMark();
    for (const std::unique_ptr<Job> &job : m_jobs) {
        if (job->number > mark && (job->broadcast || job->members.contains(c->uid())))
            send(*job, c);
    }
    c->setFanOutMark(m_jobs.back()->number);
}

void FanOut::finishFront()
{
    const std::unique_ptr<Job> job = std::move(m_jobs.front());
    m_jobs.pop_front();
    m_pendingBytes -= job->cost;
    m_metrics->messagesOut += quint64(job->delivered);
    m_metrics->bytesOut +=
        quint64(job->delivered) * quint64(job->header.size() + job->payload.size());
    if (job->finished)
        job->finished(job->delivered, job->dropped);
}

void FanOut::finishAll()
{
    while (!m_jobs.empty())
        run(true);
}

void FanOut::timerEvent(QTimerEvent *event)
{
    if (event->timerId() == m_timer.timerId())
        run(false);
    else
        QObject::timerEvent(event);
}
