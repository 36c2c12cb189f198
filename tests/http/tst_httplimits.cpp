#include "HttpTestSupport.h"
#include "SocketQueues.h"
#include "TestMain.h"
#include "TestSupport.h"

#include "HttpApi.h"
#include "HttpServer.h"

#include <QElapsedTimer>
#include <QFile>
#include <QTimer>

#include <sys/socket.h>

using namespace TestSupport;
using namespace HttpTestSupport;

// What one HTTP client may hold of the gateway: unread answers, requests in
// flight, connections, time. Every limit is hit on purpose and the gateway
// must stay within it and keep serving the others.
class tst_HttpLimits : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void unreadPipelinedAnswersStopReading();
    void unreadPipelinedAnswersKeepTheProcessSmall();
    void unreadAnswersTimeOut();
    void connectionCapRefusesPastIt();
    void slowRequestIsClosedAtItsDeadline();
    void requestsInFlightAreCapped();
    void deferredAnswersKeepRequestOrder();
    void storeFailureIs503();
    void deferredAnswerAfterTheClientLeft();

private:
    static HttpServer *http(PushServer *server) { return server->httpApi()->httpServer(); }
    static QByteArray pipelinedPages(int count)
    {
        QByteArray requests;
        const QByteArray one = rawRequest("GET", "/");
        requests.reserve(one.size() * count);
        for (int i = 0; i < count; ++i)
            requests += one;
        return requests;
    }
};

// A client that never reads: its answers stay in the gateway. Its small
// receive buffer keeps them from hiding in the kernel on the client's side.
class DeafClient final
{
public:
    explicit DeafClient(quint16 port)
    {
        m_socket.setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, 4096);
        m_socket.setReadBufferSize(4096);
        m_socket.connectToHost(QHostAddress(QHostAddress::LocalHost), port);
        waitFor([this] { return m_socket.state() == QAbstractSocket::ConnectedState; });
    }
    bool isConnected() const { return m_socket.state() == QAbstractSocket::ConnectedState; }
    void write(const QByteArray &bytes) { m_socket.write(bytes); }
    // Starts reading after all: everything that arrives is kept.
    QByteArray &listen()
    {
        m_socket.setReadBufferSize(0);
        QObject::connect(&m_socket, &QTcpSocket::readyRead, &m_socket,
            [this] { m_received += m_socket.readAll(); });
        m_received += m_socket.readAll();
        return m_received;
    }
    QTcpSocket &socket() { return m_socket; }

private:
    QTcpSocket m_socket;
    QByteArray m_received;
};

static qint64 rssKiB(qint64 pid)
{
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').front().toLongLong();
    }
    return -1;
}

void tst_HttpLimits::unreadPipelinedAnswersStopReading()
{
    Config config = loopbackConfig();
    config.httpTestPage = true; // the largest answer: a few KiB for a few bytes
    config.httpMaxOutput = 256 * 1024;
    auto server = startServer(config);
    QVERIFY(server);
    constexpr int Requests = 8000;
    DeafClient client(server->httpPort());
    QVERIFY(client.isConnected());
    client.write(pipelinedPages(Requests));

    // The gateway answers until the client's unsent answers pass the cap,
    // then stops reading it.
    WAIT_COMPARE(http(server.get())->pausedCount(), 1, 10000);
    const qint64 answered = http(server.get())->responseCounts().value(200);
    QVERIFY2(answered < Requests, QByteArray::number(answered));
    // Held: the unsent answers up to the cap plus one answer past it, the
    // unparsed rest of one socket read, bookkeeping.
    const qint64 page =
        request("GET", QStringLiteral("http://127.0.0.1:%1/").arg(server->httpPort())).body.size();
    const qint64 bound = config.httpMaxOutput + page + 64 * 1024 + 16 * 1024 + 2048;
    const qint64 held = http(server.get())->bufferedBytes();
    QVERIFY2(held <= bound, qPrintable(QStringLiteral("%1 > %2").arg(held).arg(bound)));
    // Others are still served meanwhile (the probe above was one).
    QCOMPARE(request("GET", QStringLiteral("http://127.0.0.1:%1/healthz").arg(server->httpPort()))
                 .status,
        200);

    // Once it reads, every answer comes, in order.
    QByteArray &received = client.listen();
    QList<int> statuses;
    WAIT_COMPARE(countResponses(received), Requests, 30000);
    countResponses(received, &statuses);
    QCOMPARE(statuses.count(200), Requests);
    QVERIFY(client.isConnected());
}

void tst_HttpLimits::unreadPipelinedAnswersKeepTheProcessSmall()
{
    // The same against the real binary, measured as the operator would:
    // its resident memory.
    Gateway gateway;
    QVERIFY2(
        gateway.start({QStringLiteral("--http-test-page")}), gateway.output() + gateway.errors());
    const qint64 pid = gateway.process().processId();
    const QString metrics = QStringLiteral("http://127.0.0.1:%1/metrics").arg(gateway.httpPort());
    QCOMPARE(request("GET", metrics).status, 200); // the scrape's own memory, before
    const qint64 before = rssKiB(pid);
    QVERIFY(before > 0);

    DeafClient client(gateway.httpPort());
    QVERIFY(client.isConnected());
    client.write(pipelinedPages(8000));
    WAIT_VERIFY(
        request("GET", metrics).body.contains("\npushconsole_http_paused_connections 1\n"), 10000);
    const qint64 grown = rssKiB(pid) - before;
    // 8000 test pages are 60 MiB (QHttpServer grew by that much); with
    // --http-max-output at 1 MiB the process grows by about 2 MiB, the rest
    // of the bound is slack for the allocator (and a sanitizer's quarantine).
    QVERIFY2(grown < 16 * 1024, qPrintable(QStringLiteral("RSS grew by %1 KiB").arg(grown)));
    QVERIFY(gateway.stop());
}

void tst_HttpLimits::unreadAnswersTimeOut()
{
    Config config = loopbackConfig();
    config.httpTestPage = true;
    config.httpIdleTimeoutMs = 500;
    auto server = startServer(config);
    QVERIFY(server);
    DeafClient client(server->httpPort());
    QVERIFY(client.isConnected());
    client.write(pipelinedPages(8000));
    WAIT_COMPARE(http(server.get())->pausedCount(), 1, 10000);
    // Answers nobody reads are dropped with their connection.
    WAIT_COMPARE(http(server.get())->connectionCount(), 0, 5000);
    QCOMPARE(http(server.get())->stalledOutputs(), 1u);
    QCOMPARE(http(server.get())->bufferedBytes(), 0);
}

void tst_HttpLimits::connectionCapRefusesPastIt()
{
    Config config = loopbackConfig();
    config.maxHttpConnections = 3;
    auto server = startServer(config);
    QVERIFY(server);
    std::vector<std::unique_ptr<QTcpSocket>> idle;
    for (int i = 0; i < 3; ++i) {
        idle.push_back(std::make_unique<QTcpSocket>());
        idle.back()->connectToHost(QHostAddress(QHostAddress::LocalHost), server->httpPort());
    }
    WAIT_COMPARE(http(server.get())->connectionCount(), 3);
    QVERIFY(isRefused(server->httpPort()));
    QVERIFY(isRefused(server->httpPort()));
    QCOMPARE(server->metrics().refusedHttp, 2u);
    QCOMPARE(http(server.get())->connectionCount(), 3);

    idle.pop_back();
    WAIT_COMPARE(http(server.get())->connectionCount(), 2);
    const Reply r =
        request("GET", QStringLiteral("http://127.0.0.1:%1/metrics").arg(server->httpPort()));
    QCOMPARE(r.status, 200);
    QVERIFY2(
        r.body.contains("\npushconsole_refused_connections_total{limit=\"max_http_conns\"} 2\n"),
        r.body.constData());
    const QList<Event> events = server->eventLog()->snapshot();
    QVERIFY(std::any_of(events.cbegin(), events.cend(), [](const Event &e) {
        return e.type == Event::Type::Rejected
            && e.englishDetail() == QLatin1String("HTTP API: connection limit reached (3)");
    }));
}

void tst_HttpLimits::slowRequestIsClosedAtItsDeadline()
{
    Config config = loopbackConfig();
    config.httpRequestTimeoutMs = 1000;
    config.httpIdleTimeoutMs = 60000;
    auto server = startServer(config);
    QVERIFY(server);
    QTcpSocket socket;
    socket.connectToHost(QHostAddress(QHostAddress::LocalHost), server->httpPort());
    WAIT_COMPARE(socket.state(), QAbstractSocket::ConnectedState);

    // Slowloris: a head that never ends, one byte every 100 ms. Each byte
    // is activity, but the deadline runs from the first one.
    const QByteArray head =
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + QByteArray(1000, 'a');
    qsizetype sent = 0;
    QTimer drip;
    QObject::connect(&drip, &QTimer::timeout, &socket, [&] {
        if (sent < head.size() && socket.state() == QAbstractSocket::ConnectedState)
            socket.write(head.mid(sent++, 1));
    });
    QElapsedTimer clock;
    clock.start();
    socket.write(head.mid(sent++, 1));
    drip.start(100);
    QByteArray received;
    WAIT_UNTIL(
        [&] {
            received += socket.readAll();
            return socket.state() == QAbstractSocket::UnconnectedState;
        },
        received, 10000);
    const qint64 elapsed = clock.elapsed();
    received += socket.readAll();
    QVERIFY2(elapsed >= 950 && elapsed < 2500, QByteArray::number(elapsed));
    QVERIFY2(received.startsWith("HTTP/1.1 408 Request Timeout\r\n"), received.constData());
    QVERIFY(received.contains("\r\nConnection: close\r\n"));
    QCOMPARE(http(server.get())->requestTimeouts(), 1u);
    QVERIFY(sent > 5);
}

void tst_HttpLimits::requestsInFlightAreCapped()
{
    Config config = loopbackConfig();
    config.httpMaxInFlight = 4;
    ManualOfflineStore store;
    auto server = startServer(config);
    QVERIFY(server);
    // Every push to an offline uid waits for the store, as with Redis.
    server->router()->setOfflineStore(&store);

    constexpr int Pushes = 10;
    QByteArray requests;
    for (int i = 0; i < Pushes; ++i)
        requests += rawRequest("POST", "/api/push", pushLine("away", QByteArray::number(i)));
    QTcpSocket socket;
    QByteArray received;
    QObject::connect(
        &socket, &QTcpSocket::readyRead, &socket, [&] { received += socket.readAll(); });
    socket.connectToHost(QHostAddress(QHostAddress::LocalHost), server->httpPort());
    WAIT_COMPARE(socket.state(), QAbstractSocket::ConnectedState);
    socket.write(requests);

    // Four read and waiting; the rest is left unread until they are answered.
    WAIT_COMPARE(http(server.get())->pausedCount(), 1);
    QCOMPARE(store.pendingCount(), 4);
    QVERIFY(received.isEmpty() && nothingArrived(socket));

    int completed = 0;
    while (completed < Pushes) {
        WAIT_VERIFY(store.pendingCount() > 0);
        QVERIFY(store.pendingCount() <= 4);
        store.complete();
        ++completed;
        WAIT_COMPARE(countResponses(received), completed);
    }
    QList<int> statuses;
    QCOMPARE(countResponses(received, &statuses), Pushes);
    QCOMPARE(statuses, QList<int>(Pushes, 202));
    for (int i = 0; i < Pushes; ++i)
        QCOMPARE(store.payloads[i], pushLine("away", QByteArray::number(i)));
    server->router()->setOfflineStore(nullptr);
}

void tst_HttpLimits::deferredAnswersKeepRequestOrder()
{
    ManualOfflineStore store;
    auto server = startServer();
    QVERIFY(server);
    server->router()->setOfflineStore(&store);
    WsClient online(server->wsPort());
    QVERIFY(online.bind("here", server.get()));

    // A push that waits for the store, then two that are answered at once.
    const QByteArray requests = rawRequest("POST", "/api/push", pushLine("away", "1"))
        + rawRequest("GET", "/api/uids/nobody")
        + rawRequest("POST", "/api/push", pushLine("here", "2"));
    QTcpSocket socket;
    QByteArray received;
    QObject::connect(
        &socket, &QTcpSocket::readyRead, &socket, [&] { received += socket.readAll(); });
    socket.connectToHost(QHostAddress(QHostAddress::LocalHost), server->httpPort());
    WAIT_COMPARE(socket.state(), QAbstractSocket::ConnectedState);
    socket.write(requests);

    // The third push was delivered, so all three were handled; their
    // answers wait behind the first.
    QVERIFY(online.waitForMessages(1));
    QCOMPARE(store.pendingCount(), 1);
    QVERIFY(received.isEmpty() && nothingArrived(socket));

    store.complete();
    WAIT_COMPARE(countResponses(received), 3);
    QList<int> statuses;
    countResponses(received, &statuses);
    QCOMPARE(statuses, (QList<int> {202, 404, 200}));
    const qsizetype first = received.indexOf(R"({"result":"queued","stored":1})");
    const qsizetype second = received.indexOf(R"({"error":"uid not online"})");
    const qsizetype third = received.indexOf(R"({"result":"ok","delivered":1})");
    QVERIFY(first > 0 && second > first && third > second);
    server->router()->setOfflineStore(nullptr);
}

void tst_HttpLimits::storeFailureIs503()
{
    // A store that fails (a full disk, a Redis error) is a fail the backend
    // may retry: 503, never 202 and never the 404 of "nobody is online".
    ManualOfflineStore store;
    auto server = startServer();
    QVERIFY(server);
    server->router()->setOfflineStore(&store);
    QTcpSocket socket;
    QByteArray received;
    QObject::connect(
        &socket, &QTcpSocket::readyRead, &socket, [&] { received += socket.readAll(); });
    socket.connectToHost(QHostAddress(QHostAddress::LocalHost), server->httpPort());
    WAIT_COMPARE(socket.state(), QAbstractSocket::ConnectedState);
    socket.write(rawRequest("POST", "/api/push", pushLine("away", "1")));
    WAIT_COMPARE(store.pendingCount(), 1);
    store.complete(true);
    WAIT_COMPARE(countResponses(received), 1);
    QList<int> statuses;
    countResponses(received, &statuses);
    QCOMPARE(statuses, QList<int> {503});
    QVERIFY2(received.contains(R"("result":"fail")"), received.constData());
    server->router()->setOfflineStore(nullptr);
}

void tst_HttpLimits::deferredAnswerAfterTheClientLeft()
{
    ManualOfflineStore store;
    auto server = startServer();
    QVERIFY(server);
    server->router()->setOfflineStore(&store);
    const auto pipelineTwo = [&](QTcpSocket &socket) {
        socket.connectToHost(QHostAddress(QHostAddress::LocalHost), server->httpPort());
        if (!waitFor([&] { return socket.state() == QAbstractSocket::ConnectedState; }))
            return false;
        socket.write(rawRequest("POST", "/api/push", pushLine("away", "1"))
            + rawRequest("POST", "/api/push", pushLine("away", "2")));
        return waitFor([&] { return store.pendingCount() == 2; });
    };
    {
        // Reset by the client: the connection is gone before its answers.
        QTcpSocket socket;
        QVERIFY(pipelineTwo(socket));
        const linger reset = {1, 0};
        ::setsockopt(int(socket.socketDescriptor()), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        socket.abort();
    }
    WAIT_COMPARE(http(server.get())->connectionCount(), 0);
    store.complete();
    store.complete();
    {
        // Closed by the client (a FIN: it might still read): the answers
        // are written, find nobody, and the connection goes.
        QTcpSocket socket;
        QVERIFY(pipelineTwo(socket));
        socket.abort();
    }
    store.complete();
    store.complete();
    WAIT_COMPARE(http(server.get())->connectionCount(), 0);
    QCOMPARE(http(server.get())->bufferedBytes(), 0);
    const Reply r =
        request("GET", QStringLiteral("http://127.0.0.1:%1/healthz").arg(server->httpPort()));
    QCOMPARE(r.status, 200);
    server->router()->setOfflineStore(nullptr);
}

PUSHCONSOLE_TEST_MAIN(tst_HttpLimits)
#include "tst_httplimits.moc"
