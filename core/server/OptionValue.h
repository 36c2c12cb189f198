#pragma once

#include "Config.h"

#include <QCoreApplication>
#include <QString>

#include <functional>
#include <initializer_list>
#include <optional>
#include <utility>

// How one option's text becomes a Config value and back: the parser of the
// option table (OptionTable). Each kind reads what the command line and the
// INI file accept and formats a value the way it reads it, so that a default
// is shown from a default-constructed Config, in the syntax that sets it.
class OptionValue final
{
    Q_DECLARE_TR_FUNCTIONS(ConfigLoader)
public:
    // Reads text into config; false with what was expected ("expected a
    // port number from 0 to 65535"), config unchanged.
    using Parse = std::function<bool(const QString &text, Config &config, QString *expected)>;
    // The value in config as text that Parse reads back; empty when unset
    // (no file, no list, "the heartbeat").
    using Format = std::function<QString(const Config &config)>;
    // Sets the option in `to` to its value in `from` (a reload takes the
    // options it can apply, one by one).
    using Copy = std::function<void(const Config &from, Config &to)>;

    static constexpr qint64 MaxDurationMs = 24LL * 3600 * 1000;
    static constexpr qint64 MaxSize = qint64(1) << 30;

    static OptionValue port(quint16 Config::*member);
    static OptionValue optionalPort(int Config::*member); // -1: none
    static OptionValue address(QHostAddress Config::*member);
    // Zero: off (shown so) or a value in [minimumMs, maximumMs]; negative
    // values in Config are unset.
    enum class Zero : quint8 { Refused, Allowed, Off };
    static OptionValue duration(
        qint64 Config::*member, qint64 minimumMs, Zero zero, qint64 maximumMs = MaxDurationMs);
    static OptionValue size(qint64 Config::*member, qint64 minimum = 16, qint64 maximum = MaxSize);
    static OptionValue count(int Config::*member, int minimum, int maximum);
    static OptionValue subnets(QList<QPair<QHostAddress, int>> Config::*member);
    // A file name, read when the server starts. emptyExpected: what an
    // empty name is told; nullptr: an empty name clears the setting.
    static OptionValue file(QString Config::*member,
        const char *emptyExpected = QT_TRANSLATE_NOOP("ConfigLoader", "expected a file name"));
    static OptionValue flag(bool Config::*member);
    // One of a few words (case-insensitive). The value `unset` (when
    // given) is accepted by its name but shown as unset.
    template<typename T>
    static OptionValue choice(T Config::*member,
        std::initializer_list<std::pair<const char *, T>> choices, const char *expected,
        std::optional<T> unset = std::nullopt);

    // The custom ones.
    static OptionValue redisUrl(QString Config::*member);
    static OptionValue nodeId(QString Config::*member);
    static OptionValue offlineTtl(qint64 Config::*member);
    static OptionValue origins(QStringList Config::*member);
    static OptionValue hostNames(QStringList Config::*member);
    static OptionValue claimText(QString Config::*member); // a token's aud or iss
    static OptionValue logLevel(Event::Level Config::*member);
    static OptionValue language(QString Config::*member);

    bool isFlag() const { return m_flag; }
    bool parse(const QString &text, Config &config, QString *expected) const
    {
        return m_parse(text, config, expected);
    }
    QString format(const Config &config) const { return m_format(config); }
    void copy(const Config &from, Config &to) const { m_copy(from, to); }
    // For people: like format(), but "on"/"off" for flags and "off" for a
    // zero that turns something off; empty when unset.
    QString describe(const Config &config) const;

    // "55", "55s", "1500ms", "2m" → milliseconds; -1 when invalid.
    static qint64 parseDuration(const QString &text);
    // "1048576", "64K", "1M", "1MiB" → bytes; -1 when invalid.
    static qint64 parseSize(const QString &text);
    // The shortest exact form: "0", "1500ms", "55s", "5m".
    static QString formatDuration(qint64 ms);
    // The largest exact unit: "16", "64K", "1M", "1024G".
    static QString formatSize(qint64 bytes);

private:
    OptionValue(Parse parse, Format format)
        : m_parse(std::move(parse))
        , m_format(std::move(format))
    { }

    template<typename T>
    static OptionValue withCopy(T Config::*member, OptionValue value)
    {
        value.m_copy = [member](const Config &from, Config &to) { to.*member = from.*member; };
        return value;
    }

    Parse m_parse;
    Format m_format;
    Copy m_copy;
    bool m_flag = false;
    bool m_zeroIsOff = false;
};

template<typename T>
OptionValue OptionValue::choice(T Config::*member,
    std::initializer_list<std::pair<const char *, T>> choices, const char *expected,
    std::optional<T> unset)
{
    const QList<std::pair<const char *, T>> list(choices);
    return withCopy(member,
        OptionValue(
            [member, list, expected](const QString &text, Config &c, QString *why) {
                const QString v = text.trimmed();
                for (const auto &[name, value] : list) {
                    if (v.compare(QLatin1String(name), Qt::CaseInsensitive) == 0) {
                        c.*member = value;
                        return true;
                    }
                }
                *why = tr(expected);
                return false;
            },
            [member, list, unset](const Config &c) {
                if (unset && c.*member == *unset)
                    return QString();
                for (const auto &[name, value] : list) {
                    if (c.*member == value)
                        return QString::fromLatin1(name);
                }
                return QString();
            }));
}
