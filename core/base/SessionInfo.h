#pragma once

#include <QByteArray>
#include <QMetaType>
#include <QString>

// A snapshot of one connection for the console and the APIs.
struct SessionInfo
{
    quint64 id = 0;
    QByteArray uid;
    QString peer;
    qint64 connectedAt = 0; // ms since the epoch, UTC
    qint64 lastActivity = 0; // ms since the epoch, UTC
    quint64 messagesIn = 0;
    quint64 messagesOut = 0;
    quint64 bytesIn = 0;
    quint64 bytesOut = 0;
};

Q_DECLARE_METATYPE(SessionInfo)
