#pragma once

#include "Config.h"

#include <QCoreApplication>
#include <QStringList>

// Builds a Config from defaults < INI file (--config) < command line, and
// turns every bad value into a message that names the option and says what
// is expected. Every option is one row of OptionTable; --help-markdown,
// --help-ini and --help-metrics print the generated reference.
class ConfigLoader final
{
    Q_DECLARE_TR_FUNCTIONS(ConfigLoader)
public:
    enum class Action { Run, ShowHelp, ShowVersion, Fail };
    struct Result
    {
        Action action = Action::Run;
        Config config;
        QString error; // set with Action::Fail
        // Set with Action::ShowHelp: --help (needs an application object),
        // or the text --help-markdown, --help-ini or --help-metrics print.
        QString helpText;
    };

    // arguments[0] is the program name, as in QCoreApplication::arguments().
    static Result load(const QStringList &arguments);

    // "55", "55s", "1500ms", "2m" → milliseconds; -1 when invalid.
    static qint64 parseDuration(const QString &text);
    // "1048576", "64K", "1M", "1MiB" → bytes; -1 when invalid.
    static qint64 parseSize(const QString &text);
};
