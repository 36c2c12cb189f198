#pragma once

#include "Event.h"

#include <QHostAddress>
#include <QString>

// Every setting of the gateway with its default. ConfigLoader fills it from
// an INI file and the command line; everything else only reads it.
struct Config
{
    QHostAddress wsBind = QHostAddress(QHostAddress::AnyIPv4);
    quint16 wsPort = 8013;
    // The push port is an inner port: loopback unless the operator says so.
    QHostAddress textBind = QHostAddress(QHostAddress::LocalHost);
    quint16 textPort = 5678;
    // The HTTP API pushes and disconnects too: loopback unless the operator
    // says so, and an API key when it is exposed.
    QHostAddress httpBind = QHostAddress(QHostAddress::LocalHost);
    int httpPort = 2121; // -1: no HTTP API
    QString httpApiKeyFile; // empty: /api/* needs no key
    qint64 httpIdleTimeoutMs = 60 * 1000; // an HTTP connection silent this long is closed

    qint64 heartbeatMs = 55 * 1000; // idle connections are dropped after this
    qint64 pingIntervalMs = 20 * 1000; // 0: never ping (the seed's behaviour)
    qint64 bindTimeoutMs = -1; // -1: same as the heartbeat
    qint64 closeTimeoutMs = 2000; // a closing peer gets this long to answer

    qint64 maxLine = 1024 * 1024; // text port request line
    qint64 maxMessage = 1024 * 1024; // incoming WebSocket message
    qint64 maxFrame = 1024 * 1024; // incoming WebSocket frame
    qint64 maxOutput = 8 * 1024 * 1024; // unsent bytes per client before it is dropped
    int maxConnsPerUid = 16;

    Event::Level logLevel = Event::Level::Info;
    int logBuffer = 10000; // events kept in memory for the console

    bool noGui = false;
    QString language; // empty: follow the system locale
    QString configFile;

    qint64 effectiveBindTimeoutMs() const
    {
        return bindTimeoutMs < 0 ? heartbeatMs : bindTimeoutMs;
    }
};
