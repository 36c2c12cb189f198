#pragma once

#include <QByteArray>
#include <QProcess>
#include <QStringList>

#include <memory>

namespace TestSupport {

// The real pushconsole binary, headless on loopback ports 0 with debug
// logging, for tests that need a gateway in another process (signals,
// clusters, a browser). Waits by spinning the event loop.
class GatewayProcess final
{
public:
    ~GatewayProcess();
    // Extra arguments go after the defaults (later options win); waits for
    // the "listening" line and reads the ports from it.
    bool start(const QStringList &args = {});
    // Run the binary through this command (program and its arguments, the
    // binary and its arguments follow), e.g. to start it under a resource
    // limit. Applies to the next start().
    void setLauncher(const QStringList &launcher) { m_launcher = launcher; }
    // Another build of the gateway (pushgatewayd, say) instead of binary().
    // Applies to the next start().
    void setBinary(const QString &path) { m_binary = path; }
    void terminate(); // SIGTERM, waits for the exit
    // SIGTERM; true when it exited normally with status 0.
    bool stop();
    void kill(); // SIGKILL, waits for the exit
    bool isRunning() const;

    quint16 wsPort() const { return m_wsPort; }
    quint16 textPort() const { return m_textPort; }
    quint16 httpPort() const { return m_httpPort; }
    QByteArray output(); // stdout so far: the event log
    QByteArray errors(); // stderr so far
    // How many times uid was bound so far, from the log's "bind" lines; and
    // a wait until it was bound that many times (the gateway acknowledges
    // no bind: this is how a test knows a client is registered).
    int bindCount(const QByteArray &uid);
    bool waitUntilBound(const QByteArray &uid, int times = 1, int timeoutMs = 5000);
    QProcess &process() { return *m_process; }
    // The pushconsole this build made, or $PUSHCONSOLE_TEST_BINARY.
    static QString binary();

private:
    bool waitForExit();

    std::unique_ptr<QProcess> m_process;
    QStringList m_launcher;
    QString m_binary;
    QByteArray m_out;
    QByteArray m_err;
    quint16 m_wsPort = 0;
    quint16 m_textPort = 0;
    quint16 m_httpPort = 0;
};

} // namespace TestSupport
