#include "HeadlessChromium.h"

#include "TestSupport.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

HeadlessChromium::~HeadlessChromium()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_cdp.call(QStringLiteral("Browser.close"), {}, {}, 3000);
    if (!TestSupport::waitFor([&] { return m_process.state() == QProcess::NotRunning; }, 5000)) {
        m_process.terminate();
        if (!m_process.waitForFinished(3000))
            m_process.kill();
    }
}

bool HeadlessChromium::start(const QString &chromium)
{
    if (!m_profile.isValid()) {
        m_error = QStringLiteral("no temporary directory for the profile");
        return false;
    }
    QProcessEnvironment env = TestSupport::headlessEnvironment();
    // Nothing of the test run may land in the real home directory.
    env.insert(QStringLiteral("HOME"), m_profile.path());
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_profile.filePath(QStringLiteral("config")));
    env.insert(QStringLiteral("XDG_CACHE_HOME"), m_profile.filePath(QStringLiteral("cache")));
    m_process.setProcessEnvironment(env);
    // The machine has no internet: everything that would call home is off.
    // --no-sandbox because CI runs as root, where Chromium's sandbox refuses.
    m_process.start(chromium,
        {QStringLiteral("--headless"), QStringLiteral("--no-sandbox"),
            QStringLiteral("--disable-gpu"), QStringLiteral("--disable-quic"),
            QStringLiteral("--no-first-run"), QStringLiteral("--no-default-browser-check"),
            QStringLiteral("--disable-background-networking"),
            QStringLiteral("--disable-component-update"), QStringLiteral("--disable-sync"),
            QStringLiteral("--disable-extensions"), QStringLiteral("--disable-default-apps"),
            QStringLiteral("--disable-dev-shm-usage"), QStringLiteral("--disable-breakpad"),
            QStringLiteral("--mute-audio"),
            QStringLiteral("--user-data-dir=") + m_profile.filePath(QStringLiteral("profile")),
            QStringLiteral("--remote-debugging-port=0"), QStringLiteral("about:blank")});
    const QRegularExpression devtools(QStringLiteral(R"(DevTools listening on (ws://\S+))"));
    QString url;
    TestSupport::waitFor(
        [&] {
            m_stderr += m_process.readAllStandardError();
            const auto m = devtools.match(QString::fromUtf8(m_stderr));
            if (m.hasMatch())
                url = m.captured(1);
            return !url.isEmpty() || m_process.state() == QProcess::NotRunning;
        },
        30000);
    if (url.isEmpty()) {
        m_error = QStringLiteral("chromium did not start: ") + QString::fromUtf8(m_stderr);
        return false;
    }
    if (!m_cdp.open(QUrl(url))) {
        m_error = m_cdp.error();
        return false;
    }
    return true;
}

QString HeadlessChromium::openPage(const QString &url)
{
    const QJsonObject target =
        m_cdp.call(QStringLiteral("Target.createTarget"), {{QStringLiteral("url"), url}});
    const QString targetId = target.value(QStringLiteral("targetId")).toString();
    if (targetId.isEmpty()) {
        m_error = m_cdp.error();
        return {};
    }
    const QJsonObject attached = m_cdp.call(QStringLiteral("Target.attachToTarget"),
        {{QStringLiteral("targetId"), targetId}, {QStringLiteral("flatten"), true}});
    m_error = m_cdp.error();
    return attached.value(QStringLiteral("sessionId")).toString();
}

QJsonValue HeadlessChromium::evaluate(
    const QString &session, const QString &expression, int timeoutMs)
{
    const QJsonObject result = m_cdp.call(QStringLiteral("Runtime.evaluate"),
        {{QStringLiteral("expression"), expression}, {QStringLiteral("returnByValue"), true},
            {QStringLiteral("awaitPromise"), true}},
        session, timeoutMs);
    if (result.contains(QStringLiteral("exceptionDetails"))) {
        m_error = QString::fromUtf8(
            QJsonDocument(result.value(QStringLiteral("exceptionDetails")).toObject())
                .toJson(QJsonDocument::Compact));
        return QJsonValue::Undefined;
    }
    if (result.isEmpty())
        m_error = m_cdp.error();
    return result.value(QStringLiteral("result")).toObject().value(QStringLiteral("value"));
}
