#pragma once

#include <QObject>

class QSocketNotifier;

// SIGINT and SIGTERM as a Qt signal: the handler only writes the signal
// number to a pipe, the event loop does the rest (nothing unsafe runs
// inside the handler). Also ignores SIGPIPE.
class SignalWatcher final : public QObject
{
    Q_OBJECT
public:
    explicit SignalWatcher(QObject *parent = nullptr);
    ~SignalWatcher() override;

Q_SIGNALS:
    void terminationRequested(int signalNumber);

private:
    void readPipe();
    QSocketNotifier *m_notifier = nullptr;
};
