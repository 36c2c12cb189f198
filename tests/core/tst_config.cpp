#include "TestMain.h"

#include "ConfigLoader.h"
#include "ConsoleLogger.h"

#include <QTemporaryDir>

class tst_Config : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void defaults();
    void commandLine();
    void iniThenCommandLine();
    void iniSectionAndLists();
    void errors_data();
    void errors();
    void durationsAndSizes();
    void proxyAndTokenOptions();
    void helpAndVersion();
    void logLineFormat();

private:
    QString writeIni(const QByteArray &content);
    QTemporaryDir m_dir;
};

QString tst_Config::writeIni(const QByteArray &content)
{
    static int n = 0;
    const QString path = m_dir.filePath(QStringLiteral("c%1.ini").arg(++n));
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return {};
    f.write(content);
    return path;
}

void tst_Config::defaults()
{
    const auto r = ConfigLoader::load({QStringLiteral("pushconsole")});
    QCOMPARE(r.action, ConfigLoader::Action::Run);
    const Config &c = r.config;
    QCOMPARE(c.wsBind, QHostAddress(QStringLiteral("0.0.0.0")));
    QCOMPARE(c.wsPort, quint16(8013));
    QCOMPARE(c.textBind, QHostAddress(QStringLiteral("127.0.0.1"))); // never 0.0.0.0 by default
    QCOMPARE(c.textPort, quint16(5678));
    QCOMPARE(c.heartbeatMs, qint64(55000));
    QCOMPARE(c.pingIntervalMs, qint64(20000));
    QCOMPARE(c.effectiveBindTimeoutMs(), qint64(55000));
    QCOMPARE(c.maxLine, qint64(1 << 20));
    QCOMPARE(c.maxMessage, qint64(1 << 20));
    QCOMPARE(c.maxConnsPerUid, 16);
    QCOMPARE(c.shutdownTimeoutMs, qint64(10000));
    QCOMPARE(c.logLevel, Event::Level::Info);
    QVERIFY(!c.noGui);
    for (const auto &[value, ms] : {std::pair {"0", 0}, {"2500ms", 2500}, {"1m", 60000}}) {
        const auto t = ConfigLoader::load({QStringLiteral("pushconsole"),
            QStringLiteral("--shutdown-timeout=") + QLatin1String(value)});
        QCOMPARE(t.action, ConfigLoader::Action::Run);
        QCOMPARE(t.config.shutdownTimeoutMs, qint64(ms));
    }
}

void tst_Config::commandLine()
{
    const auto r = ConfigLoader::load({QStringLiteral("pushconsole"), QStringLiteral("--ws-bind"),
        QStringLiteral("::"), QStringLiteral("--ws-port=0"), QStringLiteral("--text-port"),
        QStringLiteral("6000"), QStringLiteral("--heartbeat"), QStringLiteral("2s"),
        QStringLiteral("--ping-interval=0"), QStringLiteral("--max-line"), QStringLiteral("64K"),
        QStringLiteral("--max-message=2M"), QStringLiteral("--max-conns-per-uid=3"),
        QStringLiteral("--log-level=DEBUG"), QStringLiteral("--no-gui"),
        QStringLiteral("--text-bind=localhost")});
    QCOMPARE(r.action, ConfigLoader::Action::Run);
    const Config &c = r.config;
    QCOMPARE(c.wsBind, QHostAddress(QStringLiteral("::")));
    QCOMPARE(c.wsPort, quint16(0));
    QCOMPARE(c.textPort, quint16(6000));
    QCOMPARE(c.textBind, QHostAddress(QStringLiteral("127.0.0.1")));
    QCOMPARE(c.heartbeatMs, qint64(2000));
    QCOMPARE(c.effectiveBindTimeoutMs(), qint64(2000));
    QCOMPARE(c.pingIntervalMs, qint64(0));
    QCOMPARE(c.maxLine, qint64(65536));
    QCOMPARE(c.maxMessage, qint64(2 << 20));
    QCOMPARE(c.maxConnsPerUid, 3);
    QCOMPARE(c.logLevel, Event::Level::Debug);
    QVERIFY(c.noGui);
}

void tst_Config::iniThenCommandLine()
{
    const QString ini = writeIni("ws-port=9000\ntext-port=9001\nheartbeat=30\nno-gui=true\n"
                                 "log-level=warning\n");
    const auto r = ConfigLoader::load({QStringLiteral("pushconsole"), QStringLiteral("--config"),
        ini, QStringLiteral("--text-port=9100")});
    QCOMPARE(r.action, ConfigLoader::Action::Run);
    QCOMPARE(r.config.wsPort, quint16(9000)); // from the file
    QCOMPARE(r.config.textPort, quint16(9100)); // the command line wins
    QCOMPARE(r.config.heartbeatMs, qint64(30000));
    QVERIFY(r.config.noGui);
    QCOMPARE(r.config.logLevel, Event::Level::Warning);
    QCOMPARE(r.config.configFile, QFileInfo(ini).absoluteFilePath());
}

void tst_Config::iniSectionAndLists()
{
    const QString ini = writeIni("[pushconsole]\nws-port=9002\n");
    const auto r =
        ConfigLoader::load({QStringLiteral("pushconsole"), QStringLiteral("--config"), ini});
    QCOMPARE(r.action, ConfigLoader::Action::Run);
    QCOMPARE(r.config.wsPort, quint16(9002));
}

void tst_Config::errors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QByteArray>("ini");
    QTest::addColumn<QString>("message");
    QTest::newRow("port text") << QStringList {QStringLiteral("--ws-port=abc")} << QByteArray()
                               << QStringLiteral("--ws-port: invalid value \"abc\" for ws-port");
    QTest::newRow("port range") << QStringList {QStringLiteral("--text-port=70000")} << QByteArray()
                                << QStringLiteral("expected a port number from 0 to 65535");
    QTest::newRow("address") << QStringList {QStringLiteral("--ws-bind=example.com")}
                             << QByteArray() << QStringLiteral("expected an IP address");
    QTest::newRow("zero heartbeat") << QStringList {QStringLiteral("--heartbeat=0")} << QByteArray()
                                    << QStringLiteral("expected a duration");
    QTest::newRow("shutdown timeout")
        << QStringList {QStringLiteral("--shutdown-timeout=soon")} << QByteArray()
        << QStringLiteral("invalid value \"soon\" for shutdown-timeout");
    QTest::newRow("size") << QStringList {QStringLiteral("--max-line=lots")} << QByteArray()
                          << QStringLiteral("expected a size");
    QTest::newRow("level") << QStringList {QStringLiteral("--log-level=loud")} << QByteArray()
                           << QStringLiteral("expected debug, info, warning or error");
    QTest::newRow("unknown option") << QStringList {QStringLiteral("--frobnicate")} << QByteArray()
                                    << QStringLiteral("frobnicate");
    QTest::newRow("positional") << QStringList {QStringLiteral("extra")} << QByteArray()
                                << QStringLiteral("unexpected argument \"extra\"");
    QTest::newRow("missing file") << QStringList {QStringLiteral("--config=/nonexistent.ini")}
                                  << QByteArray()
                                  << QStringLiteral("cannot read config file \"/nonexistent.ini\"");
    QTest::newRow("unknown key") << QStringList() << QByteArray("ws-prot=1\n")
                                 << QStringLiteral("unknown setting \"ws-prot\"");
    QTest::newRow("bad ini value") << QStringList() << QByteArray("heartbeat=soon\n")
                                   << QStringLiteral("invalid value \"soon\" for heartbeat");
    QTest::newRow("unknown section")
        << QStringList() << QByteArray("[other]\nws-port=1\n") << QStringLiteral("unknown section");
    QTest::newRow("trusted proxy not an address")
        << QStringList {QStringLiteral("--trusted-proxies=nginx.local")} << QByteArray()
        << QStringLiteral("expected addresses or subnets");
    QTest::newRow("proxy protocol from nobody")
        << QStringList {QStringLiteral("--proxy-protocol")} << QByteArray()
        << QStringLiteral("--proxy-protocol needs --trusted-proxies");
    QTest::newRow("proxy protocol from nobody (INI)")
        << QStringList() << QByteArray("proxy-protocol=true\n")
        << QStringLiteral("--proxy-protocol needs --trusted-proxies");
    QTest::newRow("proxy protocol maybe")
        << QStringList() << QByteArray("trusted-proxies=127.0.0.1\nproxy-protocol=maybe\n")
        << QStringLiteral("expected true or false");
    QTest::newRow("audience without auth")
        << QStringList {QStringLiteral("--auth-audience=push")} << QByteArray()
        << QStringLiteral("need --auth-secret-file or --auth-public-key");
    QTest::newRow("max age without auth")
        << QStringList {QStringLiteral("--auth-max-age=5m")} << QByteArray()
        << QStringLiteral("need --auth-secret-file or --auth-public-key");
    QTest::newRow("max age too short") << QStringList {QStringLiteral("--auth-secret-file=s"),
        QStringLiteral("--auth-max-age=10ms")}
                                       << QByteArray() << QStringLiteral("expected a duration");
    QTest::newRow("empty issuer") << QStringList {QStringLiteral("--auth-secret-file=s"),
        QStringLiteral("--auth-issuer= ")}
                                  << QByteArray() << QStringLiteral("expected 1 to 256 characters");
    QTest::newRow("negative token cap")
        << QStringList {QStringLiteral("--max-conns-per-token=-1")} << QByteArray()
        << QStringLiteral("expected a whole number from 0");
}

void tst_Config::errors()
{
    QFETCH(QStringList, args);
    QFETCH(QByteArray, ini);
    QFETCH(QString, message);
    args.prepend(QStringLiteral("pushconsole"));
    if (!ini.isEmpty())
        args << QStringLiteral("--config") << writeIni(ini);
    const auto r = ConfigLoader::load(args);
    QCOMPARE(r.action, ConfigLoader::Action::Fail);
    QVERIFY2(r.error.contains(message), qPrintable(r.error));
}

void tst_Config::durationsAndSizes()
{
    QCOMPARE(ConfigLoader::parseDuration(QStringLiteral("55")), qint64(55000));
    QCOMPARE(ConfigLoader::parseDuration(QStringLiteral("1500ms")), qint64(1500));
    QCOMPARE(ConfigLoader::parseDuration(QStringLiteral("2m")), qint64(120000));
    QCOMPARE(ConfigLoader::parseDuration(QStringLiteral("-1")), qint64(-1));
    QCOMPARE(ConfigLoader::parseDuration(QStringLiteral("1h")), qint64(-1));
    QCOMPARE(ConfigLoader::parseSize(QStringLiteral("1MiB")), qint64(1 << 20));
    QCOMPARE(ConfigLoader::parseSize(QStringLiteral("64k")), qint64(65536));
    QCOMPARE(ConfigLoader::parseSize(QStringLiteral("100")), qint64(100));
    QCOMPARE(ConfigLoader::parseSize(QStringLiteral("1.5M")), qint64(-1));
}

void tst_Config::proxyAndTokenOptions()
{
    const auto defaults = ConfigLoader::load({QStringLiteral("pushconsole")});
    QVERIFY(defaults.config.trustedProxies.isEmpty()); // nobody's word is taken by default
    QVERIFY(!defaults.config.proxyProtocol);
    QCOMPARE(defaults.config.maxConnsPerToken, 4);
    QCOMPARE(defaults.config.authMaxAgeMs, qint64(0));

    const auto r = ConfigLoader::load({QStringLiteral("pushconsole"),
        QStringLiteral("--trusted-proxies=127.0.0.1, 10.0.0.0/8,::1"),
        QStringLiteral("--proxy-protocol"), QStringLiteral("--auth-secret-file=s"),
        QStringLiteral("--auth-audience=push.example.com"),
        QStringLiteral("--auth-issuer=https://shop.example.com"),
        QStringLiteral("--auth-max-age=10m"), QStringLiteral("--max-conns-per-token=0")});
    QCOMPARE(r.action, ConfigLoader::Action::Run);
    const Config &c = r.config;
    QCOMPARE(c.trustedProxies.size(), 3);
    QCOMPARE(c.trustedProxies[0], QHostAddress::parseSubnet(QStringLiteral("127.0.0.1/32")));
    QCOMPARE(c.trustedProxies[1], QHostAddress::parseSubnet(QStringLiteral("10.0.0.0/8")));
    QCOMPARE(c.trustedProxies[2], QHostAddress::parseSubnet(QStringLiteral("::1/128")));
    QVERIFY(c.proxyProtocol);
    QCOMPARE(c.authAudience, QStringLiteral("push.example.com"));
    QCOMPARE(c.authIssuer, QStringLiteral("https://shop.example.com"));
    QCOMPARE(c.authMaxAgeMs, qint64(600000));
    QCOMPARE(c.maxConnsPerToken, 0);

    const QString ini = writeIni("trusted-proxies=10.1.2.3\nproxy-protocol=yes\n"
                                 "max-conns-per-token=2\n");
    const auto fromIni =
        ConfigLoader::load({QStringLiteral("pushconsole"), QStringLiteral("--config"), ini});
    QCOMPARE(fromIni.action, ConfigLoader::Action::Run);
    QCOMPARE(fromIni.config.trustedProxies.size(), 1);
    QVERIFY(fromIni.config.proxyProtocol);
    QCOMPARE(fromIni.config.maxConnsPerToken, 2);
}

void tst_Config::helpAndVersion()
{
    auto r = ConfigLoader::load({QStringLiteral("pushconsole"), QStringLiteral("--help")});
    QCOMPARE(r.action, ConfigLoader::Action::ShowHelp);
    for (const char *option : {"--ws-bind", "--ws-port", "--text-bind", "--text-port",
             "--heartbeat", "--ping-interval", "--max-line", "--max-message", "--max-conns-per-uid",
             "--log-level", "--no-gui", "--config", "--trusted-proxies", "--proxy-protocol",
             "--max-conns-per-token", "--auth-audience", "--auth-issuer", "--auth-max-age",
             "--shutdown-timeout", "--threads"})
        QVERIFY2(r.helpText.contains(QLatin1String(option)), option);
    r = ConfigLoader::load({QStringLiteral("pushconsole"), QStringLiteral("--version")});
    QCOMPARE(r.action, ConfigLoader::Action::ShowVersion);
}

void tst_Config::logLineFormat()
{
    Event e;
    e.time = 1700000000123; // 2023-11-14T22:13:20.123Z
    e.type = Event::Type::Closed;
    e.level = Event::Level::Info;
    e.connection = 12;
    e.uid = "1001";
    e.peer = QStringLiteral("127.0.0.1:5000");
    e.detail = QStringLiteral("client closed: bye \"now\"");
    e.closeCode = 1000;
    e.size = 3;
    QCOMPARE(ConsoleLogger::format(e),
        QByteArray("2023-11-14T22:13:20.123Z info close conn=12 uid=1001 peer=127.0.0.1:5000 "
                   "code=1000 seconds=3 reason=\"client closed: bye \\\"now\\\"\"\n"));
    Event p;
    p.time = 1700000000123;
    p.type = Event::Type::Push;
    p.level = Event::Level::Debug;
    p.source = PushSource::TextPort;
    p.status = PushStatus::Ok;
    p.delivered = 2;
    p.uid = "7";
    p.size = 11;
    p.peer = QStringLiteral("127.0.0.1:6000");
    p.text = "{\"uid\":\"7\"}";
    QCOMPARE(ConsoleLogger::format(p),
        QByteArray("2023-11-14T22:13:20.123Z debug push source=text result=ok delivered=2 "
                   "uid=7 size=11 from=127.0.0.1:6000 text=\"{\\\"uid\\\":\\\"7\\\"}\"\n"));
    // What a drop cost is on the line: a push some target could not take,
    // a connection closed with output unread.
    p.status = PushStatus::Fail;
    p.delivered = 1;
    p.dropped = 1;
    p.text.clear();
    QCOMPARE(ConsoleLogger::format(p),
        QByteArray("2023-11-14T22:13:20.123Z debug push source=text result=fail delivered=1 "
                   "dropped=1 uid=7 size=11 from=127.0.0.1:6000\n"));
    e.level = Event::Level::Warning;
    e.closeCode = 0;
    e.detail = QStringLiteral("shutdown timeout");
    e.discarded = 4096;
    QCOMPARE(ConsoleLogger::format(e),
        QByteArray("2023-11-14T22:13:20.123Z warning close conn=12 uid=1001 peer=127.0.0.1:5000 "
                   "seconds=3 reason=\"shutdown timeout\" discarded=4096\n"));
}

PUSHCONSOLE_TEST_MAIN(tst_Config)
#include "tst_config.moc"
