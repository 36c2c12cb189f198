#pragma once

#include <QCoreApplication>
#include <QString>

// How the console writes times, durations and sizes, in one place so every
// panel says "5 s ago" the same way in every language.
class TimeText final
{
    Q_DECLARE_TR_FUNCTIONS(TimeText)
public:
    // thenMs and nowMs are milliseconds since the epoch.
    static QString ago(qint64 thenMs, qint64 nowMs);
    // "0:42", "1:02:03", "3 d 04:05:06"
    static QString duration(qint64 ms);
    // Local wall-clock time; the date only when it is not today.
    static QString clock(qint64 msSinceEpoch, bool withMs = false);
    static QString bytes(qint64 bytes);
};
