#pragma once

#include <QObject>
#include <QString>
#include <QTimer>

class EventLog;

// Logs refused connections without letting a flood of them flood the log:
// the first refusal of each second is logged as it happens, the rest of that
// second are counted and summed up in one line when the second is over.
class RefusalReporter final : public QObject
{
    Q_OBJECT
public:
    explicit RefusalReporter(EventLog *log, QObject *parent = nullptr);

    void report(const QString &what, const QString &peer);

private:
    void flush();

    EventLog *m_log;
    QTimer m_window;
    int m_suppressed = 0;
    QString m_lastReason;
};
