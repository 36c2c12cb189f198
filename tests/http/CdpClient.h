#pragma once

#include <QHash>
#include <QJsonObject>
#include <QJsonValue>
#include <QObject>
#include <QWebSocket>

// The few calls of the Chrome DevTools Protocol the browser test needs, over
// one QWebSocket to the browser, with sessions in "flatten" mode.
class CdpClient final : public QObject
{
    Q_OBJECT
public:
    explicit CdpClient(QObject *parent = nullptr);

    bool open(const QUrl &browserUrl, int timeoutMs = 10000);
    // Sends a command and waits for its answer; an empty object and error()
    // on failure.
    QJsonObject call(const QString &method, const QJsonObject &params = {},
        const QString &sessionId = {}, int timeoutMs = 10000);
    // Runtime.evaluate in the page of sessionId, by value.
    QJsonValue evaluate(const QString &sessionId, const QString &expression);
    QString error() const { return m_error; }

private:
    QWebSocket m_socket;
    QHash<int, QJsonObject> m_answers;
    int m_nextId = 1;
    QString m_error;
};
