#include "ConfigLoader.h"

#include "MetricList.h"
#include "OptionDocs.h"
#include "OptionTable.h"
#include "RedisUrl.h"

#include <QCommandLineParser>
#include <QFileInfo>
#include <QSettings>

namespace {

// The value with whatever precedes its last '@' (user and password of a
// URL) replaced, so that a typo in the port does not print the password.
QString withoutPassword(const QString &value)
{
    const qsizetype at = value.lastIndexOf(u'@');
    if (at < 0)
        return value;
    const qsizetype scheme = value.indexOf(QLatin1String("://"));
    const qsizetype from = scheme >= 0 && scheme < at ? scheme + 3 : 0;
    return value.left(from) + QLatin1String("***") + value.mid(at);
}

// Applies one setting from the table; `origin` says where the value came
// from, for the error message.
bool apply(const QString &name, const QString &value, const QString &origin, Config *config,
    QString *error)
{
    const Option *option = OptionTable::find(name);
    if (!option || !option->iniKey) {
        *error = QCoreApplication::translate("ConfigLoader", "%1: unknown setting \"%2\"")
                     .arg(origin, name);
        return false;
    }
    QString expected;
    if (option->value.parse(value, *config, &expected))
        return true;
    *error = QCoreApplication::translate("ConfigLoader", "%1: invalid value \"%2\" for %3: %4")
                 .arg(origin, option->secret ? withoutPassword(value) : value, name, expected);
    return false;
}

} // namespace

qint64 ConfigLoader::parseDuration(const QString &text)
{
    return OptionValue::parseDuration(text);
}

qint64 ConfigLoader::parseSize(const QString &text)
{
    return OptionValue::parseSize(text);
}

ConfigLoader::Result ConfigLoader::load(const QStringList &arguments)
{
    Result result;
    QCommandLineParser parser;
    parser.setApplicationDescription(
        tr("Real-time uid push gateway and operator console.\n"
           "Browsers connect over WebSocket and send their uid; backends write a JSON line\n"
           "with a \"uid\" member to the push port and get \"ok\" or \"fail\" back."));
    const QCommandLineOption help = parser.addHelpOption();
    const QCommandLineOption version = parser.addVersionOption();
    for (const Option &o : OptionTable::options()) {
        QCommandLineOption option(QString::fromLatin1(o.name), OptionTable::helpLine(o));
        if (o.valueName)
            option.setValueName(tr(o.valueName));
        parser.addOption(option);
    }
    for (const OptionDocs::Action &a : OptionDocs::actions())
        parser.addOption(QCommandLineOption(QString::fromLatin1(a.names), tr(a.help)));

    const bool parsed = parser.parse(arguments);
    // Known before anything else, so that help and errors come out in the
    // language asked for.
    if (parser.isSet(QStringLiteral("lang"))) {
        QString ignored;
        apply(QStringLiteral("lang"), parser.value(QStringLiteral("lang")), {}, &result.config,
            &ignored);
    }
    if (!parsed) {
        result.action = Action::Fail;
        result.error = parser.errorText();
        return result;
    }
    if (!parser.positionalArguments().isEmpty()) {
        result.action = Action::Fail;
        result.error = tr("unexpected argument \"%1\"").arg(parser.positionalArguments().first());
        return result;
    }
    if (parser.isSet(help)) {
        result.action = Action::ShowHelp;
        if (QCoreApplication::instance())
            result.helpText = parser.helpText();
        return result;
    }
    if (parser.isSet(version)) {
        result.action = Action::ShowVersion;
        return result;
    }
    if (parser.isSet(QStringLiteral("help-markdown"))) {
        result.action = Action::ShowHelp;
        result.helpText = OptionDocs::markdown();
        return result;
    }
    if (parser.isSet(QStringLiteral("help-metrics"))) {
        result.action = Action::ShowHelp;
        result.helpText = MetricList::markdown();
        return result;
    }

    // The names given in the file or on the command line, for --help-ini.
    QSet<QString> given;
    QString error;
    const QString file = parser.value(QStringLiteral("config"));
    if (!file.isEmpty()) {
        const QFileInfo info(file);
        if (!info.isFile() || !info.isReadable()) {
            result.action = Action::Fail;
            result.error = tr("cannot read config file \"%1\"").arg(file);
            return result;
        }
        QSettings ini(file, QSettings::IniFormat);
        if (ini.status() != QSettings::NoError) {
            result.action = Action::Fail;
            result.error = tr("config file \"%1\" is not a valid INI file").arg(file);
            return result;
        }
        result.config.configFile = info.absoluteFilePath();
        const QString origin = info.fileName();
        for (const QString &key : ini.allKeys()) {
            // Keys may sit in [General] or in a [pushconsole] section.
            const QString name = key.section(QLatin1Char('/'), -1);
            if (key.contains(QLatin1Char('/')) && !key.startsWith(QLatin1String("pushconsole/"))) {
                result.action = Action::Fail;
                result.error = tr("%1: unknown section in \"%2\"").arg(origin, key);
                return result;
            }
            if (name == QLatin1String("config")) {
                result.action = Action::Fail;
                result.error = tr("%1: a config file cannot include another").arg(origin);
                return result;
            }
            // QSettings splits "a,b" into a list; settings want the text as written.
            const QVariant raw = ini.value(key);
            const QString value = raw.typeId() == QMetaType::QStringList
                ? raw.toStringList().join(QLatin1Char(','))
                : raw.toString();
            if (!apply(name, value, origin, &result.config, &error)) {
                result.action = Action::Fail;
                result.error = error;
                return result;
            }
            given.insert(name);
        }
    }
    for (const Option &o : OptionTable::options()) {
        const QString name = QString::fromLatin1(o.name);
        if (!o.iniKey || !parser.isSet(name))
            continue;
        const QString value = o.valueName ? parser.value(name) : QStringLiteral("true");
        if (!apply(name, value, QStringLiteral("--") + name, &result.config, &error)) {
            result.action = Action::Fail;
            result.error = error;
            return result;
        }
        given.insert(name);
    }
    if (!result.config.authSecretFile.isEmpty() && !result.config.authPublicKeyFile.isEmpty()) {
        result.action = Action::Fail;
        result.error = tr("--auth-secret-file and --auth-public-key exclude each other");
    }
    const bool auth =
        !result.config.authSecretFile.isEmpty() || !result.config.authPublicKeyFile.isEmpty();
    if (!auth
        && (!result.config.authAudience.isEmpty() || !result.config.authIssuer.isEmpty()
            || result.config.authMaxAgeMs > 0)) {
        result.action = Action::Fail;
        result.error = tr("--auth-audience, --auth-issuer and --auth-max-age need "
                          "--auth-secret-file or --auth-public-key");
    }
    if (result.config.tlsCertificate.isEmpty() != result.config.tlsKey.isEmpty()) {
        result.action = Action::Fail;
        result.error = tr("--tls-cert and --tls-key go together");
    } else if (result.config.httpTls && result.config.tlsCertificate.isEmpty()) {
        result.action = Action::Fail;
        result.error = tr("--http-tls needs --tls-cert and --tls-key");
    }
    const Config &c = result.config;
    if (!c.redisPasswordFile.isEmpty() && c.redisUrl.isEmpty()) {
        result.action = Action::Fail;
        result.error = tr("--redis-password-file needs --redis");
    } else if (!c.redisUrl.isEmpty()) {
        QString why;
        const auto source = c.redisPasswordFile.isEmpty() ? RedisUrl::PasswordSource::Url
                                                          : RedisUrl::PasswordSource::File;
        if (!RedisUrl::parse(c.redisUrl, &why, source).isValid()) {
            result.action = Action::Fail;
            // Not the URL itself: it may hold a password.
            result.error = tr("--redis: %1").arg(why);
        }
    }
    if (result.config.proxyProtocol && result.config.trustedProxies.isEmpty()) {
        result.action = Action::Fail;
        result.error = tr("--proxy-protocol needs --trusted-proxies: the proxies that send "
                          "the header");
    }
    if (result.action == Action::Run && parser.isSet(QStringLiteral("help-ini"))) {
        result.action = Action::ShowHelp;
        result.helpText = OptionDocs::ini(result.config, given);
    }
    return result;
}
