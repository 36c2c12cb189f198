#pragma once

#include "Config.h"

#include <QCoreApplication>
#include <QSet>
#include <QString>

// The option table written out for people: a Markdown reference
// (--help-markdown, docs/options.md) and a complete INI file (--help-ini,
// resources/pushconsole.example.ini, the Debian package's config). Both
// in the language of the installed translator.
class OptionDocs final
{
    Q_DECLARE_TR_FUNCTIONS(ConfigLoader)
public:
    static QString markdown();
    // Every option with its help and default, commented out, grouped by
    // section; the options named in `set` are written set to their value
    // in `config` instead.
    static QString ini(const Config &config = Config(), const QSet<QString> &set = {});

    // The command-line actions besides the options (--help, --help-ini ...):
    // name and help text, for the parser and the reference.
    struct Action
    {
        const char *names; // "h,help"
        const char *help;
    };
    static const QList<Action> &actions();
};
