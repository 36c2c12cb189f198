#pragma once

#include "OptionValue.h"

#include <QList>

// The groups options are shown in: --help lists them in this order, the
// Markdown reference and the INI file under these titles.
enum class OptionSection : quint8 {
    Ports,
    Clients,
    Limits,
    PushPort,
    HttpApi,
    Tokens,
    Tls,
    Proxies,
    Cluster,
    Offline,
    Logging,
    Console,
};

// One setting of the gateway: its name, how it is documented, parsed and
// shown, and where it goes in Config. Defaults come from Config itself.
// Texts are untranslated (QT_TRANSLATE_NOOP, context ConfigLoader) and
// translated where they are shown.
struct Option
{
    Option(const char *name, const char *valueName, OptionSection section, OptionValue value,
        const char *help)
        : name(name)
        , valueName(valueName)
        , section(section)
        , value(std::move(value))
        , help(help)
    { }

    Option &more(const char *text)
    {
        details = text;
        return *this;
    }
    Option &unsetMeans(const char *text)
    {
        unset = text;
        return *this;
    }
    Option &example(const char *text)
    {
        exampleValue = text;
        return *this;
    }
    Option &commandLineOnly()
    {
        iniKey = false;
        return *this;
    }
    // Its value may hold a password (user:password@ in a URL), which an
    // error message must not echo to a terminal or journal.
    Option &mayHoldPassword()
    {
        secret = true;
        return *this;
    }
    // A reload (SIGHUP, systemctl reload) applies it to the running server;
    // the others need a restart.
    Option &live()
    {
        reloadable = true;
        return *this;
    }

    const char *name;
    const char *valueName; // nullptr for a flag
    OptionSection section;
    OptionValue value;
    const char *help; // --help's line without its default and final period
    const char *details = nullptr; // more, for the reference and the INI file
    const char *unset = nullptr; // what an unset value means; nullptr: "none"
    const char *exampleValue = nullptr; // shown in the INI file instead of the default
    bool iniKey = true; // false: the command line only (--config)
    bool reloadable = false; // see live()
    bool secret = false; // see mayHoldPassword()
};

class OptionTable final
{
    Q_DECLARE_TR_FUNCTIONS(ConfigLoader)
public:
    // Every option, grouped by section in the order of OptionSection.
    static const QList<Option> &options();
    static const Option *find(const QString &name);

    static QString sectionTitle(OptionSection section); // translated
    static QString sectionNote(OptionSection section); // translated; may be empty

    // What --help says: the help text and its default, translated
    // ("WebSocket port, 0 for any free port (default 8013).").
    static QString helpLine(const Option &option);
    // The default as people read it: "55s", "off", "none", "the heartbeat".
    static QString defaultText(const Option &option);
    // Whether defaultText() is a value one would type (shown as code).
    static bool defaultIsValue(const Option &option);
};
