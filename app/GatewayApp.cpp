#include "GatewayApp.h"

#include "ConfigLoader.h"
#include "ConsoleLogger.h"
#include "EpollEventDispatcher.h"
#include "PushServer.h"
#include "ResourceLimits.h"
#include "SignalWatcher.h"
#include "Translations.h"

#include <QCoreApplication>

#include <csignal>
#include <cstdio>

namespace {

bool displayAvailable()
{
    return !qEnvironmentVariableIsEmpty("DISPLAY")
        || !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY")
        || !qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM");
}

void print(FILE *out, const QString &text)
{
    const QByteArray bytes = text.toLocal8Bit();
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), out);
    std::fflush(out);
}

} // namespace

int GatewayApp::run(int argc, char *argv[], ConsoleFrontend *frontend)
{
    // Before anything that takes time (loading the config, building the
    // server, opening ports): a SIGTERM from here on waits in a pipe and
    // stops the server once the event loop runs, however early it came.
    SignalWatcher::install();
    // A file size limit (ulimit -f) must make a write fail, which the offline
    // store answers with "fail", not kill the process.
    ::signal(SIGXFSZ, SIG_IGN);

    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments.append(QString::fromLocal8Bit(argv[i]));

    // A first look decides which application object to build: QApplication
    // needs a display, and headless mode must never construct it.
    const ConfigLoader::Result first = ConfigLoader::load(arguments);
    const bool wantGui =
        frontend && first.action == ConfigLoader::Action::Run && !first.config.noGui;
    const bool gui = wantGui && displayAvailable();
    const bool epoll = !gui ? first.config.eventLoop != Config::EventLoop::Default
                            : first.config.eventLoop == Config::EventLoop::Epoll;
    // Must be in place before the application object exists. With a window
    // the platform's own dispatcher must run the GUI thread (refused below).
    if (epoll && !gui)
        QCoreApplication::setEventDispatcher(new EpollEventDispatcher);

    std::unique_ptr<QCoreApplication> app;
    if (gui)
        app = frontend->createApplication(argc, argv);
    else
        app = std::make_unique<QCoreApplication>(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("pushconsole"));
    QCoreApplication::setOrganizationName(QStringLiteral("pushconsole"));
    QCoreApplication::setApplicationVersion(QStringLiteral(PUSHCONSOLE_VERSION));
    Translations::install(app.get(), first.config.language);

    // Again, now that messages can be translated and --help printed.
    const ConfigLoader::Result loaded = ConfigLoader::load(arguments);
    switch (loaded.action) {
    case ConfigLoader::Action::ShowHelp:
        print(stdout, loaded.helpText);
        // --help only, not the generated references (--help-markdown...).
        if (frontend
            && (arguments.contains(QStringLiteral("--help"))
                || arguments.contains(QStringLiteral("-h"))
                || arguments.contains(QStringLiteral("-?"))))
            print(stdout, frontend->helpAppendix());
        return 0;
    case ConfigLoader::Action::ShowVersion:
        print(
            stdout, QStringLiteral("pushconsole %1\n").arg(QCoreApplication::applicationVersion()));
        return 0;
    case ConfigLoader::Action::Fail:
        print(stderr,
            QCoreApplication::translate("main", "pushconsole: %1\nTry \"pushconsole --help\".\n")
                .arg(loaded.error));
        return 2;
    case ConfigLoader::Action::Run:
        break;
    }
    if (gui && epoll) {
        print(stderr,
            QCoreApplication::translate(
                "main", "pushconsole: --event-loop epoll needs --no-gui\n"));
        return 2;
    }
    Config config = loaded.config;
    if (wantGui && !gui) {
        print(stdout,
            QCoreApplication::translate(
                "main", "No display found: running headless (as with --no-gui).\n"));
    }
    config.noGui = !gui;

    ResourceLimits::raiseOpenFileLimit();
    PushServer server(config);
    std::unique_ptr<ConsoleLogger> logger;
    if (!gui) {
        // Nobody else reads the log headless: keep only what gets printed.
        server.eventLog()->setCaptureLevel(config.logLevel);
        logger = std::make_unique<ConsoleLogger>(server.eventLog(), config.logLevel);
    }

    SignalWatcher signalWatcher;
    bool stopping = false;
    const auto stop = [&] {
        if (stopping)
            return;
        stopping = true;
        server.shutdown();
    };
    QObject::connect(&signalWatcher, &SignalWatcher::terminationRequested, &server, [&](int) {
        if (stopping) {
            QCoreApplication::exit(0); // a second signal: do not wait for slow clients
            return;
        }
        stop();
    });
    QObject::connect(&server, &PushServer::shutdownFinished, app.get(), &QCoreApplication::quit);
    // systemctl reload: the same command line, so the same --config file,
    // read again; what can change while running does (PushServer::reload).
    QObject::connect(&signalWatcher, &SignalWatcher::reloadRequested, &server, [&] {
        if (stopping)
            return;
        const PushServer::ReloadResult result = server.reloadFrom(arguments);
        if (result.ok && logger) {
            const Event::Level level = server.config().logLevel;
            server.eventLog()->setCaptureLevel(level);
            logger->setLevel(level);
        }
    });

    QString error;
    const bool listening = server.start(&error);
    if (!listening) {
        // Headless, the event log printed it on stdout too; stderr is where
        // a service manager or a script looks first.
        print(stderr, QStringLiteral("pushconsole: %1\n").arg(error));
        if (!gui)
            return 1;
    }

    // The window says what went wrong and offers the settings and a retry;
    // closing it closes the clients properly (code 1001) first.
    std::unique_ptr<QObject> console;
    if (gui)
        console = frontend->open(&server, listening ? QString() : error, stop);
    return app->exec();
}
