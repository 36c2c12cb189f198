#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <vector>

class PushServer;

// Once a second: how many connections are open and how many pushes the
// router handled since the last sample. Keeps the last few minutes for the
// chart; reads only PushServer's registry and metrics.
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

    explicit StatsSampler(PushServer *server, QObject *parent = nullptr);

    int capacity() const { return m_capacity; }
    int size() const { return int(m_samples.size()); }
    // 0 is the oldest.
    const Sample &at(int i) const;
    const Sample *latest() const { return m_samples.empty() ? nullptr : &at(size() - 1); }
    double peakPushesPerSecond() const;
    int peakConnections() const;

    // Runs every second; public for tests.
    void sample();
    void setInterval(int ms) { m_timer.setInterval(ms); }

Q_SIGNALS:
    void sampled();

private:
    quint64 totalPushes() const;

    PushServer *m_server;
    QTimer m_timer;
    QElapsedTimer m_clock;
    std::vector<Sample> m_samples; // a ring once full
    int m_capacity = DefaultCapacity;
    int m_head = 0;
    quint64 m_lastPushes = 0;
    qint64 m_lastMs = 0;
};
