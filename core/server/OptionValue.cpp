#include "OptionValue.h"

#include "ClusterLink.h"
#include "RedisUrl.h"

namespace {

bool isHostName(const QString &name)
{
    if (name.isEmpty() || name.size() > 253)
        return false;
    for (QChar c : name) {
        if (!((c >= QLatin1Char('a') && c <= QLatin1Char('z'))
                || (c >= QLatin1Char('0') && c <= QLatin1Char('9')) || c == QLatin1Char('-')
                || c == QLatin1Char('.') || c == QLatin1Char('_')))
            return false;
    }
    return true;
}

// A whole number in [minimum, maximum]; false when it is not one.
bool wholeNumber(const QString &text, int minimum, int maximum, int *out)
{
    bool ok = false;
    const int n = text.trimmed().toInt(&ok);
    if (!ok || n < minimum || n > maximum)
        return false;
    *out = n;
    return true;
}

QString joined(const QStringList &list)
{
    return list.join(QLatin1Char(','));
}

} // namespace

QString OptionValue::describe(const Config &config) const
{
    const QString text = format(config);
    if (m_flag)
        return text == QLatin1String("true") ? tr("on") : tr("off");
    if (m_zeroIsOff && text == QLatin1String("0"))
        return tr("off");
    return text;
}

OptionValue OptionValue::port(quint16 Config::*member)
{
    return withCopy(member,
        OptionValue(
            [member](const QString &text, Config &c, QString *why) {
                int p = 0;
                if (!wholeNumber(text, 0, 65535, &p)) {
                    *why = tr("expected a port number from 0 to 65535");
                    return false;
                }
                c.*member = quint16(p);
                return true;
            },
            [member](const Config &c) { return QString::number(c.*member); }));
}

OptionValue OptionValue::optionalPort(int Config::*member)
{
    return withCopy(member,
        OptionValue(
            [member](const QString &text, Config &c, QString *why) {
                int p = 0;
                if (!wholeNumber(text, -1, 65535, &p)) {
                    *why = tr("expected a port number from 0 to 65535, or -1 for none");
                    return false;
                }
                c.*member = p;
                return true;
            },
            [member](const Config &c) { return QString::number(c.*member); }));
}

OptionValue OptionValue::address(QHostAddress Config::*member)
{
    return withCopy(member,
        OptionValue(
            [member](const QString &text, Config &c, QString *why) {
                QString v = text.trimmed();
                if (v == QLatin1String("localhost"))
                    v = QStringLiteral("127.0.0.1");
                QHostAddress a;
                if (!a.setAddress(v)) {
                    *why = tr("expected an IP address such as 0.0.0.0, 127.0.0.1 or ::");
                    return false;
                }
                c.*member = a;
                return true;
            },
            [member](const Config &c) { return (c.*member).toString(); }));
}

OptionValue OptionValue::duration(
    qint64 Config::*member, qint64 minimumMs, Zero zero, qint64 maximumMs)
{
    OptionValue value(
        [=](const QString &text, Config &c, QString *why) {
            const qint64 ms = parseDuration(text);
            if (ms < 0 || (ms == 0 && zero == Zero::Refused) || (ms != 0 && ms < minimumMs)
                || ms > maximumMs) {
                // The usual range goes without saying; a narrower one is told.
                *why = maximumMs == MaxDurationMs
                    ? tr("expected a duration such as 55, 55s, 1500ms or 2m")
                    : tr("expected a duration from %1 to %2")
                          .arg(formatDuration(qMax<qint64>(minimumMs, 1)),
                              formatDuration(maximumMs));
                return false;
            }
            c.*member = ms;
            return true;
        },
        [member](
            const Config &c) { return c.*member < 0 ? QString() : formatDuration(c.*member); });
    value.m_zeroIsOff = zero == Zero::Off;
    return withCopy(member, std::move(value));
}

OptionValue OptionValue::size(qint64 Config::*member, qint64 minimum, qint64 maximum)
{
    return withCopy(member,
        OptionValue(
            [=](const QString &text, Config &c, QString *why) {
                const qint64 bytes = parseSize(text);
                if (bytes < minimum || bytes > maximum) {
                    *why = minimum == 16 && maximum == MaxSize
                        ? tr("expected a size from 16 bytes to 1G, such as 65536, 64K or 1M")
                        : tr("expected a size from %1 to %2, such as 64K, 1M or 2G")
                              .arg(formatSize(minimum), formatSize(maximum));
                    return false;
                }
                c.*member = bytes;
                return true;
            },
            [member](const Config &c) { return formatSize(c.*member); }));
}

OptionValue OptionValue::count(int Config::*member, int minimum, int maximum)
{
    return withCopy(member,
        OptionValue(
            [=](const QString &text, Config &c, QString *why) {
                int n = 0;
                if (!wholeNumber(text, minimum, maximum, &n)) {
                    *why = tr("expected a whole number from %1 to %2").arg(minimum).arg(maximum);
                    return false;
                }
                c.*member = n;
                return true;
            },
            [member](const Config &c) { return QString::number(c.*member); }));
}

OptionValue OptionValue::subnets(QList<QPair<QHostAddress, int>> Config::*member)
{
    return withCopy(member,
        OptionValue(
            [member](const QString &text, Config &c, QString *why) {
                QList<QPair<QHostAddress, int>> list;
                if (text.trimmed() == QLatin1String("none")) {
                    (c.*member).clear();
                    return true;
                }
                for (const QString &part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
                    QString t = part.trimmed();
                    if (!t.contains(QLatin1Char('/')))
                        t += t.contains(QLatin1Char(':')) ? QLatin1String("/128")
                                                          : QLatin1String("/32");
                    const QPair<QHostAddress, int> subnet = QHostAddress::parseSubnet(t);
                    if (subnet.first.isNull()) {
                        *why = tr("expected addresses or subnets such as 10.0.0.0/8,192.168.1.5");
                        return false;
                    }
                    list.append(subnet);
                }
                c.*member = list;
                return true;
            },
            [member](const Config &c) {
                QStringList parts;
                for (const auto &[address, prefix] : c.*member) {
                    const bool host =
                        prefix == (address.protocol() == QAbstractSocket::IPv6Protocol ? 128 : 32);
                    parts.append(host
                            ? address.toString()
                            : QStringLiteral("%1/%2").arg(address.toString()).arg(prefix));
                }
                return joined(parts);
            }));
}

OptionValue OptionValue::file(QString Config::*member, const char *emptyExpected)
{
    return withCopy(member,
        OptionValue(
            [member, emptyExpected](const QString &text, Config &c, QString *why) {
                const QString name = text.trimmed();
                if (name.isEmpty() && emptyExpected) {
                    *why = tr(emptyExpected);
                    return false;
                }
                c.*member = name;
                return true;
            },
            [member](const Config &c) { return c.*member; }));
}

OptionValue OptionValue::flag(bool Config::*member)
{
    OptionValue value(
        [member](const QString &text, Config &c, QString *why) {
            const QString v = text.trimmed().toLower();
            if (v == QLatin1String("true") || v == QLatin1String("1")
                || v == QLatin1String("yes")) {
                c.*member = true;
                return true;
            }
            if (v == QLatin1String("false") || v == QLatin1String("0")
                || v == QLatin1String("no")) {
                c.*member = false;
                return true;
            }
            *why = tr("expected true or false");
            return false;
        },
        [member](const Config &c) {
            return c.*member ? QStringLiteral("true") : QStringLiteral("false");
        });
    value.m_flag = true;
    return withCopy(member, std::move(value));
}

OptionValue OptionValue::redisUrl(QString Config::*member)
{
    return withCopy(member,
        OptionValue(
            [member](const QString &text, Config &c, QString *why) {
                if (text.trimmed().isEmpty()) {
                    (c.*member).clear();
                    return true;
                }
                // Whether the password may be in it is checked once every
                // option is known (see ConfigLoader::load()).
                if (!RedisUrl::parse(text, why).isValid()
                    && !RedisUrl::parse(text, nullptr, RedisUrl::PasswordSource::File).isValid())
                    return false;
                c.*member = text.trimmed();
                return true;
            },
            [member](const Config &c) { return c.*member; }));
}

OptionValue OptionValue::nodeId(QString Config::*member)
{
    return withCopy(member,
        OptionValue(
            [member](const QString &text, Config &c, QString *why) {
                if (!ClusterLink::isValidNodeId(text.trimmed().toUtf8())) {
                    *why = tr("expected 1 to 64 of A-Z a-z 0-9 _ . -");
                    return false;
                }
                c.*member = text.trimmed();
                return true;
            },
            [member](const Config &c) { return c.*member; }));
}

OptionValue OptionValue::offlineTtl(qint64 Config::*member)
{
    OptionValue value(
        [member](const QString &text, Config &c, QString *why) {
            // Seconds by default, up to the duration parser's 10 days.
            const qint64 ms = parseDuration(text);
            if (ms < 0 || (ms > 0 && ms < 1000)) {
                *why = tr("expected 0 (off) or a duration from 1s to 10 days, such as 3600 or 30m");
                return false;
            }
            c.*member = ms;
            return true;
        },
        [member](const Config &c) { return formatDuration(c.*member); });
    value.m_zeroIsOff = true;
    return withCopy(member, std::move(value));
}

OptionValue OptionValue::origins(QStringList Config::*member)
{
    return withCopy(member,
        OptionValue(
            [member](const QString &text, Config &c, QString *why) {
                // As browsers send them: scheme://host[:port], lower case, no
                // default port, no path.
                const QString usual =
                    tr("expected origins such as https://admin.example.com (not * or null)");
                QStringList list;
                for (const QString &part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
                    QString origin = part.trimmed().toLower();
                    if (origin.endsWith(QLatin1Char('/')))
                        origin.chop(1);
                    const bool https = origin.startsWith(QLatin1String("https://"));
                    if (!https && !origin.startsWith(QLatin1String("http://"))) {
                        *why = usual;
                        return false;
                    }
                    QString host = origin.mid(https ? 8 : 7);
                    QString port;
                    const qsizetype colon = host.lastIndexOf(QLatin1Char(':'));
                    if (colon >= 0 && !host.endsWith(QLatin1Char(']'))) {
                        port = host.mid(colon + 1);
                        host.truncate(colon);
                        bool ok = false;
                        const int p = port.toInt(&ok);
                        if (!ok || p < 1 || p > 65535) {
                            *why = tr("expected origins such as https://admin.example.com:8443");
                            return false;
                        }
                        if ((https && p == 443) || (!https && p == 80))
                            port.clear();
                    }
                    const bool ipv6 = host.startsWith(QLatin1Char('['))
                        && host.endsWith(QLatin1Char(']'))
                        && QHostAddress(host.mid(1, host.size() - 2)).protocol()
                            == QAbstractSocket::IPv6Protocol;
                    if (!ipv6 && !isHostName(host)) {
                        *why = usual;
                        return false;
                    }
                    list.append((https ? QLatin1String("https://") : QLatin1String("http://"))
                        + host + (port.isEmpty() ? QString() : QLatin1Char(':') + port));
                }
                c.*member = list;
                return true;
            },
            [member](const Config &c) { return joined(c.*member); }));
}

OptionValue OptionValue::hostNames(QStringList Config::*member)
{
    return withCopy(member,
        OptionValue(
            [member](const QString &text, Config &c, QString *why) {
                QStringList list;
                for (const QString &part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
                    QString name = part.trimmed().toLower();
                    if (name.endsWith(QLatin1Char('.')))
                        name.chop(1);
                    if (name != QLatin1String("*") && !isHostName(name)) {
                        *why = tr("expected host names such as api.example.com, or *");
                        return false;
                    }
                    list.append(name);
                }
                c.*member = list;
                return true;
            },
            [member](const Config &c) { return joined(c.*member); }));
}

OptionValue OptionValue::claimText(QString Config::*member)
{
    return withCopy(member,
        OptionValue(
            [member](const QString &text, Config &c, QString *why) {
                // Compared with a token's "aud" or "iss": printable, one line.
                const QString v = text.trimmed();
                if (v.isEmpty() || v.size() > 256) {
                    *why = tr("expected 1 to 256 characters");
                    return false;
                }
                for (const QChar ch : v) {
                    if (!ch.isPrint()) {
                        *why = tr("expected printable characters only");
                        return false;
                    }
                }
                c.*member = v;
                return true;
            },
            [member](const Config &c) { return c.*member; }));
}

OptionValue OptionValue::logLevel(Event::Level Config::*member)
{
    return withCopy(member,
        OptionValue(
            [member](const QString &text, Config &c, QString *why) {
                if (Event::levelFromName(text, &(c.*member)))
                    return true;
                *why = tr("expected debug, info, warning or error");
                return false;
            },
            [member](
                const Config &c) { return QString::fromLatin1(Event::levelName(c.*member)); }));
}

OptionValue OptionValue::language(QString Config::*member)
{
    return withCopy(member,
        OptionValue(
            [member](const QString &text, Config &c, QString *why) {
                const QString v = text.trimmed();
                if (v == QLatin1String("zh_CN") || v == QLatin1String("en") || v.isEmpty()) {
                    c.*member = v;
                    return true;
                }
                *why = tr("expected zh_CN or en");
                return false;
            },
            [member](const Config &c) { return c.*member; }));
}

qint64 OptionValue::parseDuration(const QString &text)
{
    QString t = text.trimmed().toLower();
    qint64 scale = 1000;
    if (t.endsWith(QLatin1String("ms"))) {
        scale = 1;
        t.chop(2);
    } else if (t.endsWith(QLatin1Char('s'))) {
        t.chop(1);
    } else if (t.endsWith(QLatin1Char('m'))) {
        scale = 60 * 1000;
        t.chop(1);
    }
    bool ok = false;
    const qint64 n = t.trimmed().toLongLong(&ok);
    if (!ok || n < 0 || n > 10LL * 24 * 3600 * 1000)
        return -1;
    return n * scale;
}

qint64 OptionValue::parseSize(const QString &text)
{
    QString t = text.trimmed().toLower();
    if (t.endsWith(QLatin1String("ib")))
        t.chop(2);
    else if (t.endsWith(QLatin1Char('b')))
        t.chop(1);
    qint64 scale = 1;
    if (t.endsWith(QLatin1Char('k')))
        scale = 1024;
    else if (t.endsWith(QLatin1Char('m')))
        scale = 1024 * 1024;
    else if (t.endsWith(QLatin1Char('g')))
        scale = 1024 * 1024 * 1024;
    if (scale != 1)
        t.chop(1);
    bool ok = false;
    const qint64 n = t.trimmed().toLongLong(&ok);
    if (!ok || n < 0 || n > (qint64(1) << 40) / scale)
        return -1;
    return n * scale;
}

QString OptionValue::formatDuration(qint64 ms)
{
    if (ms == 0)
        return QStringLiteral("0");
    if (ms % (60 * 1000) == 0)
        return QStringLiteral("%1m").arg(ms / (60 * 1000));
    if (ms % 1000 == 0)
        return QStringLiteral("%1s").arg(ms / 1000);
    return QStringLiteral("%1ms").arg(ms);
}

QString OptionValue::formatSize(qint64 bytes)
{
    for (const auto &[unit, shift] : {std::pair {'G', 30}, {'M', 20}, {'K', 10}}) {
        if (bytes != 0 && bytes % (qint64(1) << shift) == 0)
            return QString::number(bytes >> shift) + QLatin1Char(unit);
    }
    return QString::number(bytes);
}
