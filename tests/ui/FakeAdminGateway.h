#pragma once

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTcpServer>
#include <QWebSocket>
#include <QWebSocketServer>

// What a remote console sees of a gateway, played by the test: one
// loopback port that upgrades GET /api/events to the admin stream (the test
// sends the messages of docs/admin-stream.md by hand) and answers every
// other request, or the upgrade itself, with the status the test chose.
class FakeAdminGateway final : public QObject
{
    Q_OBJECT
public:
    struct Request
    {
        QByteArray method;
        QByteArray path;
        QHash<QByteArray, QByteArray> headers; // names lower-case
        QByteArray body;
    };
    struct Answer
    {
        int status = 404;
        QByteArray body = R"({"error":"not found"})";
    };

    // With a certificate and key (PEM files): https and wss.
    explicit FakeAdminGateway(const QString &certFile = {}, const QString &keyFile = {});

    quint16 port() const;
    QString url() const; // http://127.0.0.1:PORT, https with a certificate
    void close(); // stops listening and drops every stream

    // The upgrade: 101 (the stream opens) or the status given; a key, when
    // set, must come as "Authorization: Bearer <key>" or it is 401.
    int upgradeStatus = 101;
    QByteArray key;
    // A refused upgrade's connection stays open for the next request, as
    // the gateway's HTTP/1.1 keep-alive does, unless this is set.
    bool closeAfterRefusal = true;
    // Answers by "METHOD path".
    QHash<QByteArray, Answer> answers;
    QList<Request> requests; // every request, upgrades included
    QList<QPointer<QWebSocket>> streams; // in the order they opened

    QWebSocket *lastStream() const { return streams.isEmpty() ? nullptr : streams.last().data(); }
    static void send(QWebSocket *stream, const QJsonObject &message);
    static void send(QWebSocket *stream, const QByteArray &text);

Q_SIGNALS:
    void streamOpened(QWebSocket *stream);

private:
    void onReadyRead(QTcpSocket *socket);
    void respond(QTcpSocket *socket, int status, const QByteArray &body, bool close = true);

    class Listener;
    Listener *m_tcp;
    QWebSocketServer m_ws;
};

// The doc's messages, with the values the tests check.
namespace AdminMessages {
QJsonObject hello(const QString &node = QStringLiteral("gw-a"), bool cluster = false);
QJsonObject presence(const QList<QJsonObject> &uids, bool reset);
QJsonObject uid(const QString &uid, int connections, const QStringList &otherNodes = {});
QJsonObject events(const QList<QJsonObject> &events);
QJsonObject message(const QString &uid, const QString &text, int ms);
QJsonObject counters(int uids, int connections, int ok);
QJsonObject ready();
// hello, presence reset with uids, events, counters, ready.
void snapshot(QWebSocket *stream, const QList<QJsonObject> &uids, const QList<QJsonObject> &events,
    const QString &node = QStringLiteral("gw-a"));
} // namespace AdminMessages
