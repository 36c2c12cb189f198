#include "TimeText.h"

#include <QDateTime>
#include <QLocale>

QString TimeText::ago(qint64 thenMs, qint64 nowMs)
{
    const qint64 s = qMax<qint64>(0, (nowMs - thenMs) / 1000);
    if (s < 1)
        return tr("just now");
    if (s < 60)
        return tr("%1 s ago").arg(s);
    if (s < 3600)
        return tr("%1 min %2 s ago").arg(s / 60).arg(s % 60);
    if (s < 86400)
        return tr("%1 h %2 min ago").arg(s / 3600).arg((s % 3600) / 60);
    return tr("%1 d %2 h ago").arg(s / 86400).arg((s % 86400) / 3600);
}

QString TimeText::duration(qint64 ms)
{
    const qint64 s = qMax<qint64>(0, ms / 1000);
    const qint64 days = s / 86400;
    const QString hms = QStringLiteral("%1:%2:%3")
                            .arg((s % 86400) / 3600)
                            .arg((s % 3600) / 60, 2, 10, QLatin1Char('0'))
                            .arg(s % 60, 2, 10, QLatin1Char('0'));
    return days > 0 ? tr("%1 d %2").arg(days).arg(hms) : hms;
}

QString TimeText::clock(qint64 msSinceEpoch, bool withMs)
{
    const QDateTime t = QDateTime::fromMSecsSinceEpoch(msSinceEpoch);
    const QString time =
        t.toString(withMs ? QStringLiteral("HH:mm:ss.zzz") : QStringLiteral("HH:mm:ss"));
    if (t.date() == QDate::currentDate())
        return time;
    return t.toString(QStringLiteral("yyyy-MM-dd ")) + time;
}

QString TimeText::bytes(qint64 bytes)
{
    // Plain numbers below 10 000: an operator compares payload sizes exactly.
    if (bytes < 10000)
        return tr("%1 B").arg(bytes);
    return QLocale().formattedDataSize(bytes, 1, QLocale::DataSizeTraditionalFormat);
}
