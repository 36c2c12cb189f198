// --threads: WebSocket sockets on socket threads, through a real gateway on
// loopback port 0 with real clients. Each test sets its own thread count,
// whatever PUSHCONSOLE_THREADS says.
#include "Metrics.h"
#include "PushRouter.h"
#include "SessionRegistry.h"
#include "SocketThreads.h"
#include "StalledWsClient.h"
#include "TestMain.h"
#include "TestSupport.h"
#include "WsConnection.h"
#include "WsGateway.h"

#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTest>

using namespace TestSupport;

class tst_SocketThreads final : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void socketsSpreadOverThreads();
    void orderPerBackendAcrossThreads();
    void drainIsNeverLost();
    void slowConsumerDroppedOthersServed();
    void descriptorsComeBack();
    void pushPortWaitsWhileBehind();
    void oneThreadHasNoSocketThreads();
};

namespace {

Config threaded(int threads)
{
    Config c = loopbackConfig();
    c.threads = threads;
    return c;
}

int openDescriptors()
{
    return int(QDir(QStringLiteral("/proc/self/fd")).entryList(QDir::Files | QDir::System).size());
}

// What a push line carried: its frame is the whole line.
QString msgOf(const QString &frame)
{
    return QJsonDocument::fromJson(frame.toUtf8()).object().value(QLatin1String("msg")).toString();
}

QByteArray metricsText(quint16 port)
{
    QTcpSocket http;
    http.connectToHost(QHostAddress::LocalHost, port);
    if (!http.waitForConnected(5000))
        return {};
    http.write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    QByteArray text;
    waitFor([&] {
        text += http.readAll();
        return http.state() == QAbstractSocket::UnconnectedState;
    });
    return text;
}

int threadsOfProcess()
{
    return int(QDir(QStringLiteral("/proc/self/task"))
                   .entryList(QDir::Dirs | QDir::NoDotAndDotDot)
                   .size());
}

} // namespace

void tst_SocketThreads::socketsSpreadOverThreads()
{
    const int before = threadsOfProcess();
    auto server = startServer(threaded(4));
    QVERIFY(server);
    QCOMPARE(server->gateway()->threadCount(), 4);
    const SocketThreads *threads = server->gateway()->socketThreads();
    QVERIFY(threads);
    QCOMPARE(threads->workerCount(), 3);
    QVERIFY(threadsOfProcess() >= before + 3);

    std::vector<std::unique_ptr<WsClient>> clients;
    for (int i = 0; i < 12; ++i) {
        clients.push_back(std::make_unique<WsClient>(server->wsPort()));
        QVERIFY(clients.back()->bind("s" + QByteArray::number(i), server.get()));
    }
    QCOMPARE(threads->socketCount(), 12);
    for (int i = 0; i < 12; ++i) {
        QCOMPARE(server->router()
                     ->push(pushLine("s" + QByteArray::number(i), "hello"), PushSource::Console)
                     .status,
            PushStatus::Ok);
    }
    for (auto &c : clients) {
        QVERIFY(c->waitForMessages(1));
        QCOMPARE(msgOf(c->messages.front()), QStringLiteral("hello"));
    }
    // Round-robin: four sockets each, and each thread wrote their frames.
    const SocketThreads::Stats stats = threads->stats();
    QCOMPARE(int(stats.inboxes.size()), 3);
    for (const HandOffQueue::Stats &inbox : stats.inboxes)
        QVERIFY2(
            inbox.pushed >= 4 * 3, qPrintable(QString::number(inbox.pushed))); // open, 101, push
    QVERIFY(stats.events.pushed >= 12); // the handshakes and binds they read

    // Prometheus sees one gateway on four threads.
    const QByteArray metrics = metricsText(server->httpPort());
    QVERIFY2(metrics.contains("\npushconsole_threads 4\n"), metrics.constData());
    QVERIFY2(metrics.contains("\npushconsole_bound_connections 12\n"), metrics.constData());
    QVERIFY2(metrics.contains("\npushconsole_socket_thread_queue_refused_total 0\n"),
        metrics.constData());
}

void tst_SocketThreads::orderPerBackendAcrossThreads()
{
    auto server = startServer(threaded(4));
    QVERIFY(server);
    constexpr int Clients = 40;
    constexpr int Backends = 4;
    constexpr int PerBackend = 2500;
    std::vector<std::unique_ptr<WsClient>> clients;
    for (int i = 0; i < Clients; ++i) {
        clients.push_back(std::make_unique<WsClient>(server->wsPort()));
        QVERIFY(clients.back()->bind("o" + QByteArray::number(i), server.get()));
    }
    std::vector<std::unique_ptr<TextClient>> backends;
    std::vector<int> expected(Clients, 0);
    for (int b = 0; b < Backends; ++b) {
        backends.push_back(std::make_unique<TextClient>(server->textPort()));
        QByteArray lines;
        for (int seq = 0; seq < PerBackend; ++seq) {
            const int target = (seq * 7 + b) % Clients;
            ++expected[size_t(target)];
            const QByteArray uid = "o" + QByteArray::number(target);
            lines += pushLine(uid, QByteArray::number(b) + ':' + QByteArray::number(seq)) + '\n';
        }
        backends.back()->send(lines);
    }
    for (auto &backend : backends) {
        const QList<QByteArray> replies = backend->readLines(PerBackend, 20000);
        QCOMPARE(replies.size(), PerBackend);
        for (const QByteArray &r : replies)
            QCOMPARE(r, QByteArray("ok\n"));
    }
    for (int i = 0; i < Clients; ++i) {
        WsClient &c = *clients[size_t(i)];
        const int perClient = expected[size_t(i)];
        QVERIFY2(c.waitForMessages(perClient, 20000),
            qPrintable(QStringLiteral("client %1 got %2").arg(i).arg(c.messages.size())));
        QCOMPARE(c.messages.size(), perClient);
        int last[Backends] = {-1, -1, -1, -1};
        for (const QString &frame : std::as_const(c.messages)) {
            const QString m = msgOf(frame);
            const int b = m.section(QLatin1Char(':'), 0, 0).toInt();
            const int seq = m.section(QLatin1Char(':'), 1, 1).toInt();
            QVERIFY2(seq > last[b],
                qPrintable(QStringLiteral("client %1: %2 after %3").arg(i).arg(m).arg(last[b])));
            last[b] = seq;
        }
    }
}

void tst_SocketThreads::drainIsNeverLost()
{
    // Whoever saw output pending must hear when it is gone: the offline
    // backlog waits for it. The socket thread writes at once here, so the
    // race between its "written" and our "pending" is run many times.
    auto server = startServer(threaded(2));
    QVERIFY(server);
    WsClient client(server->wsPort());
    QVERIFY(client.bind("d", server.get()));
    WsConnection *c = server->registry()->connections("d")->front();
    int drains = 0;
    connect(c, &WsConnection::outputDrained, this, [&] { ++drains; });
    int sawPending = 0;
    // Big enough that the socket thread is seldom done before we look.
    const QByteArray padding(16 * 1024, 'p');
    for (int i = 0; i < 300; ++i) {
        QCOMPARE(
            server->router()
                ->push(pushLine("d", QByteArray::number(i) + ':' + padding), PushSource::Console)
                .status,
            PushStatus::Ok);
        const int before = drains;
        if (c->pendingBytes() > 0) {
            ++sawPending;
            WAIT_VERIFY(drains > before);
            QCOMPARE(c->pendingBytes(), 0);
        }
    }
    QVERIFY(sawPending > 0); // the hand-off is never instant
    QVERIFY(client.waitForMessages(300));
    QCOMPARE(msgOf(client.messages.back()).section(QLatin1Char(':'), 0, 0), QStringLiteral("299"));
}

void tst_SocketThreads::slowConsumerDroppedOthersServed()
{
    Config config = threaded(3);
    config.maxOutput = 256 * 1024;
    auto server = startServer(config);
    QVERIFY(server);
    StalledWsClient slow;
    QVERIFY(slow.open(server->wsPort(), "slow"));
    WsClient fast(server->wsPort());
    QVERIFY(fast.bind("fast", server.get()));
    WAIT_VERIFY(server->registry()->isOnline("slow"));

    // It reads nothing: the kernel's buffers fill, then its queue, then it
    // is dropped; what it was sent and never got is counted.
    const QByteArray line = pushLine("slow", QByteArray(64 * 1024, 's'));
    int oks = 0;
    for (int i = 0; i < 400 && server->registry()->isOnline("slow"); ++i) {
        if (server->router()->push(line, PushSource::Console).status == PushStatus::Ok)
            ++oks;
        QTest::qWait(1);
    }
    WAIT_VERIFY(!server->registry()->isOnline("slow"));
    QVERIFY(oks > 0);
    QVERIFY(server->metrics().droppedSlow >= 1);
    WAIT_VERIFY(server->metrics().droppedBytes[int(DropReason::SlowConsumer)] > 0);
    QCOMPARE(server->router()->push(pushLine("fast", "still here"), PushSource::Console).status,
        PushStatus::Ok);
    QVERIFY(fast.waitForMessages(1));
    QCOMPARE(msgOf(fast.messages.back()), QStringLiteral("still here"));
}

void tst_SocketThreads::descriptorsComeBack()
{
    const int baseline = openDescriptors();
    {
        auto server = startServer(threaded(4));
        QVERIFY(server);
        const int listening = openDescriptors();
        {
            std::vector<std::unique_ptr<StalledWsClient>> clients;
            for (int i = 0; i < 60; ++i) {
                clients.push_back(std::make_unique<StalledWsClient>());
                QVERIFY(clients.back()->open(server->wsPort(), "f" + QByteArray::number(i)));
            }
            WAIT_COMPARE(server->registry()->connectionCount(), 60);
        }
        // The clients are gone: each socket thread closed its sockets.
        WAIT_COMPARE(server->gateway()->connectionCount(), 0);
        WAIT_COMPARE(server->gateway()->socketThreads()->socketCount(), 0);
        WAIT_COMPARE(openDescriptors(), listening);

        // Stopped with clients connected: nothing is left open either.
        std::vector<std::unique_ptr<StalledWsClient>> clients;
        for (int i = 0; i < 20; ++i) {
            clients.push_back(std::make_unique<StalledWsClient>());
            QVERIFY(clients.back()->open(server->wsPort(), "g" + QByteArray::number(i)));
        }
        WAIT_COMPARE(server->registry()->connectionCount(), 20);
        server.reset();
        for (auto &c : clients)
            WAIT_VERIFY(c->readFrames().isEmpty() && c->peerGone());
    }
    WAIT_COMPARE(openDescriptors(), baseline);
}

void tst_SocketThreads::pushPortWaitsWhileBehind()
{
    // The socket threads' backlog is made up here: the gate is what is
    // tested, deterministically.
    auto server = startServer(threaded(1));
    QVERIFY(server);
    bool behind = true;
    server->router()->setBacklogCheck([&behind] { return behind; });
    WsClient client(server->wsPort());
    QVERIFY(client.bind("w", server.get()));
    TextClient backend(server->textPort());
    backend.send(pushLine("w", "1") + '\n' + pushLine("w", "2") + '\n');
    QCOMPARE(backend.readLines(2), (QList<QByteArray> {"ok\n", "ok\n"}));
    // Read, answered, and then the port stops reading: these wait.
    backend.send(pushLine("w", "3") + '\n');
    QVERIFY(backend.readLines(1, 300).isEmpty());
    QCOMPARE(client.messages.size(), 2);
    behind = false;
    QCOMPARE(backend.readLines(1), (QList<QByteArray> {"ok\n"}));
    QVERIFY(client.waitForMessages(3));
    QCOMPARE(msgOf(client.messages.back()), QStringLiteral("3"));
    server->router()->setBacklogCheck({});
}

void tst_SocketThreads::oneThreadHasNoSocketThreads()
{
    const int before = threadsOfProcess();
    auto server = startServer(threaded(1));
    QVERIFY(server);
    QCOMPARE(server->gateway()->threadCount(), 1);
    QVERIFY(!server->gateway()->socketThreads());
    QCOMPARE(threadsOfProcess(), before);
}

PUSHCONSOLE_TEST_MAIN(tst_SocketThreads)
#include "tst_socketthreads.moc"
