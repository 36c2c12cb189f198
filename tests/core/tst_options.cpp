// The option table: every option keeps its name, shows its default as read
// from a default-constructed Config, in the syntax that sets it, and the
// generated INI file and reference say what the program reads.
#include "TestMain.h"

#include "ConfigLoader.h"
#include "OptionDocs.h"
#include "OptionTable.h"

#include <QRegularExpression>
#include <QTemporaryDir>

using namespace Qt::StringLiterals;

class tst_Options : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everyOptionKeepsItsName();
    void formats();
    void defaultsReadBack();
    void helpShowsEachDefault();
    void iniShowsEveryOption();
    void iniWritesGivenOptionsSet();
    void iniRefusesWhatLoadRefuses();
    void markdownHasEveryOption();
    void errorsDoNotEchoPasswords_data();
    void errorsDoNotEchoPasswords();

private:
    QString writeFile(const QString &text);
    QTemporaryDir m_dir;
};

QString tst_Options::writeFile(const QString &text)
{
    static int n = 0;
    const QString path = m_dir.filePath(QStringLiteral("o%1.ini").arg(++n));
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return {};
    f.write(text.toUtf8());
    return path;
}

void tst_Options::everyOptionKeepsItsName()
{
    // The names backends, scripts and INI files use, in --help order.
    const QStringList expected = {QStringLiteral("ws-bind"), QStringLiteral("ws-port"),
        QStringLiteral("text-bind"), QStringLiteral("text-port"), QStringLiteral("http-bind"),
        QStringLiteral("http-port"), QStringLiteral("heartbeat"), QStringLiteral("ping-interval"),
        QStringLiteral("threads"), QStringLiteral("bind-timeout"),
        QStringLiteral("shutdown-timeout"), QStringLiteral("max-conns-per-uid"),
        QStringLiteral("max-line"), QStringLiteral("max-message"), QStringLiteral("max-frame"),
        QStringLiteral("max-output"), QStringLiteral("max-connections"),
        QStringLiteral("max-conns-per-ip"), QStringLiteral("per-ip-exempt"),
        QStringLiteral("max-unbound"), QStringLiteral("max-text-conns"),
        QStringLiteral("max-pending-replies"), QStringLiteral("text-idle-timeout"),
        QStringLiteral("text-line-timeout"), QStringLiteral("text-allow"),
        QStringLiteral("http-api-key-file"), QStringLiteral("http-host"),
        QStringLiteral("http-allow-origin"), QStringLiteral("http-public-metrics"),
        QStringLiteral("http-tls"), QStringLiteral("http-test-page"),
        QStringLiteral("max-http-conns"), QStringLiteral("http-max-output"),
        QStringLiteral("http-max-in-flight"), QStringLiteral("http-request-timeout"),
        QStringLiteral("http-idle-timeout"), QStringLiteral("max-admin-streams"),
        QStringLiteral("admin-max-output"), QStringLiteral("admin-max-event-rate"),
        QStringLiteral("auth-secret-file"), QStringLiteral("auth-public-key"),
        QStringLiteral("auth-leeway"), QStringLiteral("auth-audience"),
        QStringLiteral("auth-issuer"), QStringLiteral("auth-max-age"),
        QStringLiteral("max-conns-per-token"), QStringLiteral("tls-cert"),
        QStringLiteral("tls-key"), QStringLiteral("trusted-proxies"),
        QStringLiteral("proxy-protocol"), QStringLiteral("redis"), QStringLiteral("node-id"),
        QStringLiteral("cluster-ttl"), QStringLiteral("redis-timeout"),
        QStringLiteral("redis-password-file"), QStringLiteral("cluster-max-in-flight"),
        QStringLiteral("offline-ttl"), QStringLiteral("offline-max-per-uid"),
        QStringLiteral("offline-max-total"), QStringLiteral("offline-max-bytes-per-uid"),
        QStringLiteral("offline-max-bytes"), QStringLiteral("offline-db"),
        QStringLiteral("log-level"), QStringLiteral("log-buffer"), QStringLiteral("config"),
        QStringLiteral("no-gui"), QStringLiteral("lang"), QStringLiteral("event-loop")};
    QStringList names;
    for (const Option &o : OptionTable::options())
        names.append(QString::fromLatin1(o.name));
    QCOMPARE(names, expected);
    // Sections come in one block each, in their order.
    for (qsizetype i = 1; i < OptionTable::options().size(); ++i)
        QVERIFY(OptionTable::options()[i - 1].section <= OptionTable::options()[i].section);
}

void tst_Options::formats()
{
    QCOMPARE(OptionValue::formatDuration(0), QStringLiteral("0"));
    QCOMPARE(OptionValue::formatDuration(1500), QStringLiteral("1500ms"));
    QCOMPARE(OptionValue::formatDuration(55000), QStringLiteral("55s"));
    QCOMPARE(OptionValue::formatDuration(5 * 60 * 1000), QStringLiteral("5m"));
    QCOMPARE(OptionValue::formatDuration(90 * 1000), QStringLiteral("90s"));
    QCOMPARE(OptionValue::formatSize(1000), QStringLiteral("1000"));
    QCOMPARE(OptionValue::formatSize(64 * 1024), QStringLiteral("64K"));
    QCOMPARE(OptionValue::formatSize(8 << 20), QStringLiteral("8M"));
    QCOMPARE(OptionValue::formatSize(qint64(1) << 40), QStringLiteral("1024G"));
    // What is shown for people.
    const auto shown = [](const char *name) {
        return OptionTable::defaultText(*OptionTable::find(QLatin1String(name)));
    };
    QCOMPARE(shown("per-ip-exempt"), QStringLiteral("127.0.0.0/8,::1"));
    QCOMPARE(shown("trusted-proxies"), QStringLiteral("none"));
    QCOMPARE(shown("proxy-protocol"), QStringLiteral("off"));
    QCOMPARE(shown("offline-ttl"), QStringLiteral("off"));
    QCOMPARE(shown("auth-max-age"), QStringLiteral("off"));
    QCOMPARE(shown("ping-interval"), QStringLiteral("20s"));
    QCOMPARE(shown("bind-timeout"), QStringLiteral("the heartbeat"));
    QCOMPARE(shown("event-loop"), QStringLiteral("epoll headless, default with a window"));
    QCOMPARE(shown("log-level"), QStringLiteral("info"));
}

void tst_Options::defaultsReadBack()
{
    // Each default, written as the table writes it and read back, is the
    // default: the help shows what the program does.
    const Config defaults;
    for (const Option &o : OptionTable::options()) {
        const QString text = o.value.format(defaults);
        if (text.isEmpty())
            continue; // unset: nothing to write
        Config c;
        QString expected;
        QVERIFY2(o.value.parse(text, c, &expected), o.name);
        QCOMPARE(o.value.format(c), text);
    }
    // The same through an INI file with every default set.
    QString ini = QStringLiteral("[pushconsole]\n");
    for (const Option &o : OptionTable::options()) {
        if (o.iniKey && !o.value.format(defaults).isEmpty())
            ini += QLatin1String(o.name) + QLatin1Char('=') + o.value.format(defaults)
                + QLatin1Char('\n');
    }
    const auto r = ConfigLoader::load(
        {QStringLiteral("pushconsole"), QStringLiteral("--config"), writeFile(ini)});
    QCOMPARE(r.action, ConfigLoader::Action::Run);
    for (const Option &o : OptionTable::options()) {
        if (o.iniKey) // --config is the file's own name
            QCOMPARE(o.value.format(r.config), o.value.format(defaults));
    }
}

void tst_Options::helpShowsEachDefault()
{
    QCOMPARE(OptionTable::helpLine(*OptionTable::find(QStringLiteral("ws-port"))),
        QStringLiteral("WebSocket port, 0 for any free port (default 8013)."));
    QCOMPARE(OptionTable::helpLine(*OptionTable::find(QStringLiteral("heartbeat"))),
        QStringLiteral("Drop a client idle longer than this; units ms, s, m (default 55s)."));
    QCOMPARE(OptionTable::helpLine(*OptionTable::find(QStringLiteral("bind-timeout"))),
        QStringLiteral("Close a client that has not sent its uid by then (default: the "
                       "heartbeat)."));
    for (const Option &o : OptionTable::options()) {
        const QString line = OptionTable::helpLine(o);
        QVERIFY2(line.endsWith(QLatin1Char('.')), qPrintable(line));
        // No help text writes a default of its own: it comes from Config.
        QVERIFY2(!QString::fromUtf8(o.help).contains(QLatin1String("(default")), o.name);
        if (o.iniKey)
            QVERIFY2(
                line.contains(OptionTable::defaultText(o) + QLatin1Char(')')), qPrintable(line));
    }
}

void tst_Options::iniShowsEveryOption()
{
    const QString ini = OptionDocs::ini();
    QVERIFY(ini.startsWith(QLatin1String("; Push Console settings.")));
    QVERIFY(ini.contains(QLatin1String("\n[pushconsole]\n")));
    QVERIFY(ini.contains(QLatin1String("\n; ==== Ports ====\n")));
    for (const Option &o : OptionTable::options()) {
        const QRegularExpression key(QStringLiteral("^;%1=(.*)$").arg(QLatin1String(o.name)),
            QRegularExpression::MultilineOption);
        const QRegularExpressionMatch m = key.match(ini);
        QCOMPARE(m.hasMatch(), o.iniKey);
        if (!o.iniKey)
            continue;
        // Uncommented, each line is a valid setting.
        Config c;
        QString expected;
        QVERIFY2(o.value.parse(m.captured(1), c, &expected),
            qPrintable(QStringLiteral("%1: %2").arg(m.captured(0), expected)));
    }
    // Nothing set, nothing uncommented: the file as it is changes nothing.
    const auto r = ConfigLoader::load(
        {QStringLiteral("pushconsole"), QStringLiteral("--config"), writeFile(ini)});
    QCOMPARE(r.action, ConfigLoader::Action::Run);
    for (const Option &o : OptionTable::options()) {
        if (o.iniKey)
            QCOMPARE(o.value.format(r.config), o.value.format(Config()));
    }
}

void tst_Options::iniWritesGivenOptionsSet()
{
    // What the Debian package does: the service's values, the rest
    // commented out with their defaults.
    auto r = ConfigLoader::load({QStringLiteral("pushconsole"), QStringLiteral("--help-ini"),
        QStringLiteral("--offline-db=/var/lib/pushconsole/offline.sqlite"),
        QStringLiteral("--heartbeat=30000ms"), QStringLiteral("--per-ip-exempt=none")});
    QCOMPARE(r.action, ConfigLoader::Action::ShowHelp);
    const QString ini = r.helpText;
    QVERIFY(ini.contains(QLatin1String("\noffline-db=/var/lib/pushconsole/offline.sqlite\n")));
    QVERIFY(ini.contains(QLatin1String("\nheartbeat=30s\n")));
    QVERIFY(ini.contains(QLatin1String("\nper-ip-exempt=\n")));
    QVERIFY(ini.contains(QLatin1String("\n;ws-port=8013\n")));
    QVERIFY(!ini.contains(QLatin1String("\nws-port=")));

    r = ConfigLoader::load(
        {QStringLiteral("pushconsole"), QStringLiteral("--config"), writeFile(ini)});
    QCOMPARE(r.action, ConfigLoader::Action::Run);
    QCOMPARE(r.config.offlineDb, QStringLiteral("/var/lib/pushconsole/offline.sqlite"));
    QCOMPARE(r.config.heartbeatMs, qint64(30000));
    QVERIFY(r.config.perIpExempt.isEmpty());
    QCOMPARE(r.config.wsPort, Config().wsPort);

    // From a file: its settings come out set, the file itself does not.
    r = ConfigLoader::load({QStringLiteral("pushconsole"), QStringLiteral("--help-ini"),
        QStringLiteral("--config"), writeFile(QStringLiteral("max-line=64K\n"))});
    QCOMPARE(r.action, ConfigLoader::Action::ShowHelp);
    QVERIFY(r.helpText.contains(QLatin1String("\nmax-line=64K\n")));
    QVERIFY(!r.helpText.contains(QLatin1String("config=")));
}

void tst_Options::iniRefusesWhatLoadRefuses()
{
    auto r = ConfigLoader::load({QStringLiteral("pushconsole"), QStringLiteral("--help-ini"),
        QStringLiteral("--proxy-protocol")});
    QCOMPARE(r.action, ConfigLoader::Action::Fail);
    QVERIFY(r.error.contains(QLatin1String("--proxy-protocol needs --trusted-proxies")));
    r = ConfigLoader::load({QStringLiteral("pushconsole"), QStringLiteral("--help-ini"),
        QStringLiteral("--max-line=lots")});
    QCOMPARE(r.action, ConfigLoader::Action::Fail);
    QVERIFY(r.error.contains(QLatin1String("expected a size")));
}

void tst_Options::markdownHasEveryOption()
{
    const auto r =
        ConfigLoader::load({QStringLiteral("pushconsole"), QStringLiteral("--help-markdown")});
    QCOMPARE(r.action, ConfigLoader::Action::ShowHelp);
    const QString md = r.helpText;
    QVERIFY(md.startsWith(QLatin1String("# Options\n")));
    for (const char *section : {"Ports", "Clients", "Limits", "Push port", "HTTP API", "Tokens",
             "TLS", "Proxies", "Cluster", "Offline", "Logging", "Console"})
        QVERIFY2(md.contains(QStringLiteral("\n## %1\n").arg(QLatin1String(section))), section);
    QVERIFY(md.contains(QLatin1String("| `--ws-port PORT` | `8013` | restart | WebSocket port, 0 "
                                      "for any free port. |")));
    QVERIFY(md.contains(QLatin1String("| `--bind-timeout DURATION` | the heartbeat | **yes** |")));
    for (const Option &o : OptionTable::options())
        QVERIFY2(md.contains(QStringLiteral("| `--%1").arg(QLatin1String(o.name))), o.name);
    for (const OptionDocs::Action &a : OptionDocs::actions())
        QVERIFY2(md.contains(QStringLiteral("`--%1`").arg(QLatin1String(a.names))), a.names);
}

void tst_Options::errorsDoNotEchoPasswords_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("shown");
    QTest::newRow("bad port") << u"redis://:s3cret@10.0.0.2:99999"_s
                              << u"redis://***@10.0.0.2:99999"_s;
    QTest::newRow("user and password")
        << u"redis://push:s3cret@host:port"_s << u"redis://***@host:port"_s;
    QTest::newRow("wrong scheme") << u"http://:s3cret@host"_s << u"http://***@host"_s;
    QTest::newRow("no scheme") << u":s3cret@host:0"_s << u"***@host:0"_s;
    QTest::newRow("@ in the password") << u"redis://:s3@cret@host:0"_s << u"redis://***@host:0"_s;
}

// A typo in the port of --redis must not print the password to the
// terminal or the journal; the rest of the value still helps find it.
void tst_Options::errorsDoNotEchoPasswords()
{
    QFETCH(QString, value);
    QFETCH(QString, shown);
    auto r = ConfigLoader::load({u"pushconsole"_s, u"--redis"_s, value});
    QCOMPARE(r.action, ConfigLoader::Action::Fail);
    QVERIFY2(!r.error.contains(u"s3"_s), qPrintable(r.error));
    QVERIFY2(r.error.contains(u'"' + shown + u'"'), qPrintable(r.error));
    const QString ini = writeFile(u"[pushconsole]\nredis = \""_s + value + u"\"\n"_s);
    r = ConfigLoader::load({u"pushconsole"_s, u"--config"_s, ini});
    QCOMPARE(r.action, ConfigLoader::Action::Fail);
    QVERIFY2(!r.error.contains(u"s3"_s), qPrintable(r.error));
    QVERIFY2(r.error.contains(u"invalid value"_s), qPrintable(r.error));
    // Other options show what was typed, as before.
    r = ConfigLoader::load({u"pushconsole"_s, u"--node-id"_s, u"a b@c"_s});
    QVERIFY2(r.error.contains(u"\"a b@c\""_s), qPrintable(r.error));
}

PUSHCONSOLE_TEST_MAIN(tst_Options)
#include "tst_options.moc"
