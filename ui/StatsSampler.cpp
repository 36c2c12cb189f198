#include "StatsSampler.h"

#include "PushServer.h"

#include <QDateTime>

StatsSampler::StatsSampler(PushServer *server, QObject *parent)
    : QObject(parent)
    , m_server(server)
{
    m_samples.reserve(size_t(m_capacity));
    m_lastPushes = totalPushes();
    m_clock.start();
    m_timer.setInterval(1000);
    connect(&m_timer, &QTimer::timeout, this, &StatsSampler::sample);
    m_timer.start();
}

quint64 StatsSampler::totalPushes() const
{
    const Metrics &m = m_server->metrics();
    return m.pushesWith(PushStatus::Ok) + m.pushesWith(PushStatus::Fail)
        + m.pushesWith(PushStatus::Error) + m.pushesWith(PushStatus::Queued);
}

const StatsSampler::Sample &StatsSampler::at(int i) const
{
    return m_samples[size_t((m_head + i) % int(m_samples.size()))];
}

void StatsSampler::sample()
{
    const qint64 elapsed = m_clock.elapsed();
    const quint64 pushes = totalPushes();
    Sample s;
    s.time = QDateTime::currentMSecsSinceEpoch();
    s.connections = m_server->registry()->connectionCount();
    s.uids = m_server->registry()->uidCount();
    // Per real second: a tick delayed by a busy loop must not show a spike.
    const qint64 span = qMax<qint64>(1, elapsed - m_lastMs);
    s.pushesPerSecond = double(pushes - m_lastPushes) * 1000.0 / double(span);
    m_lastPushes = pushes;
    m_lastMs = elapsed;
    if (int(m_samples.size()) < m_capacity) {
        m_samples.push_back(s);
    } else {
        m_samples[size_t(m_head)] = s;
        m_head = (m_head + 1) % m_capacity;
    }
    Q_EMIT sampled();
}

double StatsSampler::peakPushesPerSecond() const
{
    double peak = 0;
    for (const Sample &s : m_samples)
        peak = qMax(peak, s.pushesPerSecond);
    return peak;
}

int StatsSampler::peakConnections() const
{
    int peak = 0;
    for (const Sample &s : m_samples)
        peak = qMax(peak, s.connections);
    return peak;
}
