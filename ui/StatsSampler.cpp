#include "StatsSampler.h"

#include "GatewaySource.h"

StatsSampler::StatsSampler(GatewaySource *source, QObject *parent)
    : QObject(parent)
{
    m_samples.reserve(size_t(m_capacity));
    // A remote source has nothing (time 0) until its first sample.
    const CounterSample now = source->counters();
    if (now.time != 0)
        m_last = now;
    connect(source, &GatewaySource::countersSampled, this, &StatsSampler::add);
}

const StatsSampler::Sample &StatsSampler::at(int i) const
{
    return m_samples[size_t((m_head + i) % int(m_samples.size()))];
}

void StatsSampler::add(const CounterSample &counters)
{
    Sample s;
    s.time = counters.time;
    s.connections = counters.connections;
    s.uids = counters.uids;
    if (m_last) {
        // Per real second: a tick delayed by a busy loop must not show a
        // spike. Totals that went down belong to a restarted gateway.
        const qint64 span = qMax<qint64>(1, counters.steadyMs - m_last->steadyMs);
        const quint64 before = m_last->totalPushes();
        const quint64 now = counters.totalPushes();
        s.pushesPerSecond = now >= before ? double(now - before) * 1000.0 / double(span) : 0;
    }
    m_last = counters;
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
