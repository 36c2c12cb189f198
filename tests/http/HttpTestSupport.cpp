#include "HttpTestSupport.h"

#include "TestSupport.h"

#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QTest>

namespace HttpTestSupport {

QByteArray Reply::header(const QByteArray &name) const
{
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

QJsonObject Reply::json() const
{
    return QJsonDocument::fromJson(body).object();
}

Reply request(const QByteArray &method, const QString &url, const QByteArray &body,
    const QList<std::pair<QByteArray, QByteArray>> &headers, int timeoutMs)
{
    QNetworkAccessManager manager;
    QNetworkRequest req {QUrl(url)};
    for (const auto &h : headers)
        req.setRawHeader(h.first, h.second);
    if (!body.isEmpty() && !req.hasRawHeader("Content-Type"))
        req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    QNetworkReply *reply = manager.sendCustomRequest(req, method, body);
    Reply result;
    if (!TestSupport::waitFor([&] { return reply->isFinished(); }, timeoutMs)) {
        result.error = QStringLiteral("timeout");
        reply->abort();
        delete reply;
        return result;
    }
    result.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    result.body = reply->readAll();
    result.headers = reply->rawHeaderPairs();
    // QNetworkReply reports 4xx answers as errors too; only transport ones matter here.
    if (result.status == 0)
        result.error = reply->errorString();
    delete reply;
    return result;
}

QByteArray rawExchange(quint16 port, const QByteArray &bytes,
    const std::function<bool(const QByteArray &)> &done, int timeoutMs, bool *closedByServer)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
    if (!TestSupport::waitFor(
            [&] { return socket.state() == QAbstractSocket::ConnectedState; }, timeoutMs))
        return {};
    socket.write(bytes);
    QByteArray received;
    bool closed = false;
    TestSupport::waitFor(
        [&] {
            received += socket.readAll();
            closed = socket.state() == QAbstractSocket::UnconnectedState;
            return (done && done(received)) || closed;
        },
        timeoutMs);
    received += socket.readAll();
    if (closedByServer)
        *closedByServer = closed;
    return received;
}

Run run(const QString &program, const QStringList &arguments, int timeoutMs)
{
    QProcess p;
    p.start(program, arguments);
    Run r;
    r.finished = TestSupport::waitFor([&] { return p.state() == QProcess::NotRunning; }, timeoutMs);
    if (!r.finished) {
        p.kill();
        p.waitForFinished(2000);
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

QByteArray rawRequest(const QByteArray &method, const QByteArray &path, const QByteArray &body,
    const QByteArray &extraHeaders)
{
    QByteArray r = method + ' ' + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extraHeaders;
    if (!body.isEmpty() || method == "POST") {
        r += "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size())
            + "\r\n";
    }
    return r + "\r\n" + body;
}

int countResponses(const QByteArray &received, QList<int> *statuses)
{
    int count = 0;
    qsizetype pos = 0;
    for (;;) {
        const qsizetype headEnd = received.indexOf("\r\n\r\n", pos);
        if (headEnd < 0 || !QByteArrayView(received).sliced(pos).startsWith("HTTP/1.1 "))
            return count;
        const QByteArrayView head = QByteArrayView(received).sliced(pos, headEnd - pos);
        const int status = head.sliced(9, 3).toInt();
        qint64 length = 0;
        const qsizetype at = head.toByteArray().toLower().indexOf("\r\ncontent-length: ");
        if (at >= 0) {
            qsizetype end = head.indexOf("\r\n", at + 2);
            if (end < 0)
                end = head.size();
            length = head.sliced(at + 18, end - at - 18).toLongLong();
        }
        if (status == 100) {
            pos = headEnd + 4; // an interim answer, not one of the final ones
            continue;
        }
        if (received.size() < headEnd + 4 + length)
            return count;
        ++count;
        if (statuses)
            statuses->append(status);
        pos = headEnd + 4 + length;
    }
}

} // namespace HttpTestSupport
