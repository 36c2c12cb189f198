#pragma once

#include "CdpClient.h"

#include <QJsonValue>
#include <QProcess>
#include <QString>
#include <QTemporaryDir>

// A headless Chromium driven over the DevTools protocol: start it with a
// throwaway profile, open pages, evaluate JavaScript in them (awaiting
// promises). Everything waits by spinning the event loop.
class HeadlessChromium final
{
public:
    ~HeadlessChromium();
    // False with error() when the browser cannot be started or reached.
    bool start(const QString &chromium);
    // Opens url in a new tab; returns its session id (empty on failure).
    QString openPage(const QString &url);
    // Runs expression in the page (awaiting a promise it returns) and
    // returns the value; an exception thrown there becomes error() and an
    // undefined value.
    QJsonValue evaluate(const QString &session, const QString &expression, int timeoutMs = 10000);
    QString error() const { return m_error; }

private:
    QTemporaryDir m_profile;
    QProcess m_process;
    CdpClient m_cdp;
    QByteArray m_stderr;
    QString m_error;
};
