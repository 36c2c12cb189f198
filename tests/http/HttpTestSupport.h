#pragma once

#include "GatewayProcess.h"
#include "OfflineStore.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QProcess>
#include <QProcessEnvironment>
#include <QStringList>

#include <functional>
#include <memory>
#include <utility>

// Shared by the HTTP tests. Like TestSupport, everything waits by spinning
// the event loop, so an in-process server keeps answering meanwhile.
namespace HttpTestSupport {

struct Reply
{
    int status = 0; // 0: no HTTP answer at all
    QByteArray body;
    QList<std::pair<QByteArray, QByteArray>> headers;
    QString error; // transport error, if any

    QByteArray header(const QByteArray &name) const;
    QJsonObject json() const;
};

// One request with QNetworkAccessManager.
Reply request(const QByteArray &method, const QString &url, const QByteArray &body = {},
    const QList<std::pair<QByteArray, QByteArray>> &headers = {}, int timeoutMs = 10000);

// Raw bytes over a fresh TCP connection; returns what came back once done()
// says so, the server closed, or the timeout passed. `onData` may write more.
QByteArray rawExchange(quint16 port, const QByteArray &bytes,
    const std::function<bool(const QByteArray &received)> &done, int timeoutMs = 5000,
    bool *closedByServer = nullptr);

struct Run
{
    bool finished = false;
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};
// Runs a program to its end without blocking the event loop.
Run run(const QString &program, const QStringList &arguments, int timeoutMs = 30000);

// An offline store that answers only when told: every push to an offline
// uid stays pending (as with Redis) until complete() runs its answer.
class ManualOfflineStore final : public OfflineStore
{
public:
    ManualOfflineStore()
        : OfflineStore(Limits(), nullptr)
    { }
    bool isAvailable() const override { return true; }
    bool mayHave(const QByteArray &) const override { return false; }
    void store(const QList<QByteArray> &uids, const QByteArray &payload, StoreHandler done) override
    {
        payloads.append(payload);
        m_pending.append({int(uids.size()), std::move(done)});
    }
    void fetch(const QByteArray &, qint64, qint64, FetchHandler handler) override
    {
        handler(true, {});
    }
    void acknowledge(const QByteArray &, qint64) override { }
    QString description() const override { return QStringLiteral("manual"); }

    int pendingCount() const { return int(m_pending.size()); }
    // Answers the oldest store: stored for every uid, or failed for all
    // (as on a full disk).
    void complete(bool failed = false)
    {
        const auto next = m_pending.takeFirst();
        next.second(failed ? 0 : next.first, failed ? next.first : 0);
    }

    QList<QByteArray> payloads; // every payload stored, in order

private:
    QList<std::pair<int, StoreHandler>> m_pending;
};

// HTTP/1.1 request bytes, with Host and (when there is a body) Content-Type
// and Content-Length.
QByteArray rawRequest(const QByteArray &method, const QByteArray &path, const QByteArray &body = {},
    const QByteArray &extraHeaders = {});

// How many complete answers (status line up to the end of the body) are in
// the bytes received; `statuses` gets their status codes.
int countResponses(const QByteArray &received, QList<int> *statuses = nullptr);

// The real pushconsole binary, headless, all ports 0.
// A gateway in another process.
using Gateway = TestSupport::GatewayProcess;

} // namespace HttpTestSupport
