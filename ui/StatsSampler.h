#pragma once

#include "GatewayTypes.h"

#include <QObject>

#include <optional>
#include <vector>

class GatewaySource;

// The source's counter samples, about one a second, turned into what the
// chart draws: open connections and pushes per second. Keeps the last few
// minutes.
class StatsSampler final : public QObject
{
    Q_OBJECT
public:
    struct Sample
    {
        qint64 time = 0; // ms since the epoch
        int connections = 0;
        int uids = 0;
        double pushesPerSecond = 0;
    };
    static constexpr int DefaultCapacity = 300; // five minutes

    explicit StatsSampler(GatewaySource *source, QObject *parent = nullptr);

    int capacity() const { return m_capacity; }
    int size() const { return int(m_samples.size()); }
    // 0 is the oldest.
    const Sample &at(int i) const;
    const Sample *latest() const { return m_samples.empty() ? nullptr : &at(size() - 1); }
    double peakPushesPerSecond() const;
    int peakConnections() const;

    // Each sample of the source; public for tests.
    void add(const CounterSample &counters);

Q_SIGNALS:
    void sampled();

private:
    std::vector<Sample> m_samples; // a ring once full
    int m_capacity = DefaultCapacity;
    int m_head = 0;
    // The sample rates are computed from; the source's current counters
    // before the first.
    std::optional<CounterSample> m_last;
};
