#include "GatewayProcess.h"

#include "TestSupport.h"

#include <QRegularExpression>

namespace TestSupport {

GatewayProcess::~GatewayProcess()
{
    if (isRunning())
        kill();
}

bool GatewayProcess::start(const QStringList &args)
{
    m_process = std::make_unique<QProcess>();
    m_process->setProcessEnvironment(headlessEnvironment());
    m_out.clear();
    m_err.clear();
    m_wsPort = m_textPort = m_httpPort = 0;
    QStringList all = {QStringLiteral("--no-gui"), QStringLiteral("--ws-bind=127.0.0.1"),
        QStringLiteral("--ws-port=0"), QStringLiteral("--text-port=0"),
        QStringLiteral("--http-port=0"), QStringLiteral("--log-level=debug")};
    all += args;
    const QString program = m_binary.isEmpty() ? binary() : m_binary;
    if (m_launcher.isEmpty())
        m_process->start(program, all);
    else
        m_process->start(m_launcher.front(), m_launcher.mid(1) + QStringList {program} + all);
    const QRegularExpression listening(QStringLiteral(
        R"(listening ws=127\.0\.0\.1:(\d+) text=127\.0\.0\.1:(\d+)(?: http=127\.0\.0\.1:(\d+))?)"));
    waitFor(
        [&] {
            const auto m = listening.match(QString::fromUtf8(output()));
            if (m.hasMatch()) {
                m_wsPort = quint16(m.captured(1).toUInt());
                m_textPort = quint16(m.captured(2).toUInt());
                m_httpPort = quint16(m.captured(3).toUInt());
            }
            return m.hasMatch() || m_process->state() == QProcess::NotRunning;
        },
        10000);
    if (!m_wsPort)
        qWarning("gateway did not start: %s%s", output().constData(), errors().constData());
    return m_wsPort != 0;
}

QString GatewayProcess::binary()
{
    // Another build (the code before a change, say) when the environment
    // names one.
    const QString other = qEnvironmentVariable("PUSHCONSOLE_TEST_BINARY");
    return other.isEmpty() ? QStringLiteral(PUSHCONSOLE_BINARY) : other;
}

bool GatewayProcess::waitForExit()
{
    const bool exited = waitFor([&] { return m_process->state() == QProcess::NotRunning; }, 10000);
    output();
    errors();
    return exited;
}

void GatewayProcess::terminate()
{
    if (!isRunning())
        return;
    m_process->terminate();
    waitForExit();
}

bool GatewayProcess::stop()
{
    if (!isRunning())
        return false;
    m_process->terminate();
    if (!waitForExit())
        return false;
    return m_process->exitStatus() == QProcess::NormalExit && m_process->exitCode() == 0;
}

void GatewayProcess::kill()
{
    if (!isRunning())
        return;
    m_process->kill();
    m_process->waitForFinished(5000);
    output();
    errors();
}

bool GatewayProcess::isRunning() const
{
    return m_process && m_process->state() != QProcess::NotRunning;
}

int GatewayProcess::bindCount(const QByteArray &uid)
{
    const QRegularExpression bind(QStringLiteral(" bind conn=\\d+ uid=%1 ")
                                      .arg(QRegularExpression::escape(QString::fromUtf8(uid))));
    int n = 0;
    for (auto it = bind.globalMatch(QString::fromUtf8(output())); it.hasNext(); it.next())
        ++n;
    return n;
}

bool GatewayProcess::waitUntilBound(const QByteArray &uid, int times, int timeoutMs)
{
    if (waitFor([&] { return bindCount(uid) >= times; }, timeoutMs))
        return true;
    qWarning("gateway: %s bound %d times after %d ms, not %d; log: %s", uid.constData(),
        bindCount(uid), timeoutMs, times, describe(output().right(1500)).constData());
    return false;
}

QByteArray GatewayProcess::output()
{
    if (m_process)
        m_out += m_process->readAllStandardOutput();
    return m_out;
}

QByteArray GatewayProcess::errors()
{
    if (m_process)
        m_err += m_process->readAllStandardError();
    return m_err;
}

} // namespace TestSupport
