#pragma once

#include <QObject>

class QSocketNotifier;

// SIGINT and SIGTERM (stop) and SIGHUP (read the configuration again) as Qt
// signals: the handler only writes the signal
// number to a pipe, the event loop does the rest (nothing unsafe runs
// inside the handler). Also ignores SIGPIPE.
class SignalWatcher final : public QObject
{
    Q_OBJECT
public:
    explicit SignalWatcher(QObject *parent = nullptr);
    ~SignalWatcher() override;

    // Installs the handlers and unblocks the two signals (a parent may have
    // blocked them). Called first thing in main(): a signal that comes before
    // the event loop runs waits in the pipe and is delivered as
    // terminationRequested() once the loop runs, however early it came.
    // The constructor calls it too; a second call does nothing.
    static void install();

Q_SIGNALS:
    void terminationRequested(int signalNumber);
    void reloadRequested();

private:
    void readPipe();
    QSocketNotifier *m_notifier = nullptr;
};
