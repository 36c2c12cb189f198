#include "HttpTestSupport.h"

#include "TestSupport.h"

#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QStandardPaths>
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

QString requireProgram(const QString &name)
{
    const QString path = QStandardPaths::findExecutable(name);
    if (path.isEmpty()) {
        qWarning("%s is not installed; scripts/test.sh installs it (Debian package %s)",
            qPrintable(name), qPrintable(name));
    }
    return path;
}

} // namespace HttpTestSupport
