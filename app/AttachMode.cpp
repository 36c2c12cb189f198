#include "AttachMode.h"

#include "AttachDialog.h"
#include "AttachTarget.h"
#include "MainWindow.h"
#include "RemoteConsole.h"
#include "Translations.h"

#include <QApplication>
#include <QCommandLineParser>

#include <cstdio>
#include <cstring>

namespace {

void print(FILE *out, const QString &text)
{
    const QByteArray bytes = text.toLocal8Bit();
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), out);
    std::fflush(out);
}

struct Options
{
    QCommandLineOption attach {QStringLiteral("attach"),
        QCoreApplication::translate("AttachMode",
            "Open the console on the gateway whose HTTP API is at URL (http[s]://HOST:PORT) "
            "instead of running one here."),
        QCoreApplication::translate("AttachMode", "URL")};
    QCommandLineOption keyFile {QStringLiteral("api-key-file"),
        QCoreApplication::translate(
            "AttachMode", "With --attach: the file holding the gateway's API key."),
        QCoreApplication::translate("AttachMode", "FILE")};
    QCommandLineOption ca {QStringLiteral("attach-ca"),
        QCoreApplication::translate("AttachMode",
            "With --attach and https: CA certificates (PEM) to trust besides the system's."),
        QCoreApplication::translate("AttachMode", "FILE")};
    QCommandLineOption lang {QStringLiteral("lang"),
        QCoreApplication::translate("AttachMode", "The console's language (en, zh_CN)."),
        QCoreApplication::translate("AttachMode", "LANG")};
};

} // namespace

bool AttachMode::requested(int argc, char *argv[])
{
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--attach") == 0 || std::strncmp(argv[i], "--attach=", 9) == 0)
            return true;
        if (std::strcmp(argv[i], "--") == 0)
            break;
    }
    return false;
}

QString AttachMode::helpText()
{
    const Options o;
    QString text =
        QCoreApplication::translate("AttachMode", "\nAttaching to a gateway elsewhere:\n");
    for (const QCommandLineOption *option : {&o.attach, &o.keyFile, &o.ca}) {
        text += QStringLiteral("  --%1 <%2>\n      %3\n")
                    .arg(option->names().first(), option->valueName(), option->description());
    }
    return text;
}

int AttachMode::run(int argc, char *argv[])
{
    // Read before the application exists, for its language; again below
    // with QApplication's own options (-platform, -style) taken out.
    QStringList raw;
    for (int i = 0; i < argc; ++i)
        raw.append(QString::fromLocal8Bit(argv[i]));
    QString language;
    {
        QCommandLineParser early;
        const Options o;
        early.addOptions({o.attach, o.keyFile, o.ca, o.lang});
        early.parse(raw);
        language = early.value(o.lang);
    }

    QApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("pushconsole"));
    QCoreApplication::setOrganizationName(QStringLiteral("pushconsole"));
    QCoreApplication::setApplicationVersion(QStringLiteral(PUSHCONSOLE_VERSION));
    Translations::install(&app, language);

    QCommandLineParser parser;
    const Options o;
    parser.setApplicationDescription(QCoreApplication::translate(
        "AttachMode", "The Push Console attached to a gateway that runs elsewhere."));
    const QCommandLineOption help = parser.addHelpOption();
    parser.addOptions({o.attach, o.keyFile, o.ca, o.lang});
    const auto failWith = [](const QString &error) {
        print(stderr,
            QCoreApplication::translate("main", "pushconsole: %1\nTry \"pushconsole --help\".\n")
                .arg(error));
        return 2;
    };
    if (!parser.parse(QCoreApplication::arguments())) {
        // A gateway option here would be silently meaningless: refuse it.
        return failWith(QCoreApplication::translate("AttachMode",
            "%1 (with --attach only --api-key-file, --attach-ca and --lang are allowed: no "
            "gateway runs here)")
                            .arg(parser.errorText()));
    }
    if (parser.isSet(help)) {
        print(stdout, parser.helpText());
        return 0;
    }
    if (!parser.positionalArguments().isEmpty())
        return failWith(QCoreApplication::translate("AttachMode", "unexpected argument \"%1\"")
                            .arg(parser.positionalArguments().first()));

    AttachTarget target;
    QString error;
    if (!AttachTarget::load(
            parser.value(o.attach), parser.value(o.keyFile), parser.value(o.ca), &target, &error))
        return failWith(error);
    AttachDialog::remember(target);

    RemoteConsole::open(target);
    return app.exec();
}
