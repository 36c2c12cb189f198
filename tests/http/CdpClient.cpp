#include "CdpClient.h"

#include "TestSupport.h"

#include <QJsonDocument>

CdpClient::CdpClient(QObject *parent)
    : QObject(parent)
{
    connect(&m_socket, &QWebSocket::textMessageReceived, this, [this](const QString &text) {
        const QJsonObject message = QJsonDocument::fromJson(text.toUtf8()).object();
        // Events (no id) are not needed: the test polls the page instead.
        if (message.contains(QStringLiteral("id")))
            m_answers.insert(message.value(QStringLiteral("id")).toInt(), message);
    });
}

bool CdpClient::open(const QUrl &browserUrl, int timeoutMs)
{
    m_socket.open(browserUrl);
    if (!TestSupport::waitFor(
            [this] { return m_socket.state() == QAbstractSocket::ConnectedState; }, timeoutMs)) {
        m_error = QStringLiteral("cannot connect to %1: %2")
                      .arg(browserUrl.toString(), m_socket.errorString());
        return false;
    }
    return true;
}

QJsonObject CdpClient::call(
    const QString &method, const QJsonObject &params, const QString &sessionId, int timeoutMs)
{
    const int id = m_nextId++;
    QJsonObject message {
        {QStringLiteral("id"), id},
        {QStringLiteral("method"), method},
        {QStringLiteral("params"), params},
    };
    if (!sessionId.isEmpty())
        message.insert(QStringLiteral("sessionId"), sessionId);
    m_socket.sendTextMessage(
        QString::fromUtf8(QJsonDocument(message).toJson(QJsonDocument::Compact)));
    if (!TestSupport::waitFor([&] { return m_answers.contains(id); }, timeoutMs)) {
        m_error = QStringLiteral("%1: no answer").arg(method);
        return {};
    }
    const QJsonObject answer = m_answers.take(id);
    if (answer.contains(QStringLiteral("error"))) {
        m_error = QStringLiteral("%1: %2").arg(method,
            QString::fromUtf8(QJsonDocument(answer.value(QStringLiteral("error")).toObject())
                                  .toJson(QJsonDocument::Compact)));
        return {};
    }
    return answer.value(QStringLiteral("result")).toObject();
}

QJsonValue CdpClient::evaluate(const QString &sessionId, const QString &expression)
{
    const QJsonObject result = call(QStringLiteral("Runtime.evaluate"),
        {{QStringLiteral("expression"), expression}, {QStringLiteral("returnByValue"), true}},
        sessionId);
    return result.value(QStringLiteral("result")).toObject().value(QStringLiteral("value"));
}
