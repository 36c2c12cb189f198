#include "EventJson.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonValue>

#include <cmath>
#include <limits>

namespace {

// A JSON number that is a whole number within the range of T.
template<typename T>
bool wholeNumber(const QJsonValue &v, T *out)
{
    if (!v.isDouble())
        return false;
    const double d = v.toDouble();
    if (!std::isfinite(d) || d != std::floor(d) || d < double(std::numeric_limits<T>::lowest())
        || d > double(std::numeric_limits<T>::max()))
        return false;
    *out = T(d);
    return true;
}

template<typename Enum, typename NameOf>
bool enumFromName(const QString &name, Enum last, NameOf nameOf, Enum *out)
{
    for (int i = 0; i <= int(last); ++i) {
        if (name == QLatin1String(nameOf(Enum(i)))) {
            *out = Enum(i);
            return true;
        }
    }
    return false;
}

// "reason" with its "args" when the gateway sends no "detail": what the
// console can show until it renders typed reasons itself.
QString reasonText(const QJsonObject &o)
{
    QString text = o.value(QLatin1String("reason")).toString();
    const QJsonObject args = o.value(QLatin1String("args")).toObject();
    for (auto it = args.constBegin(); it != args.constEnd(); ++it) {
        const QJsonValue v = it.value();
        QString value = v.isString() ? v.toString()
            : v.isDouble()           ? QString::number(v.toDouble())
            : v.isBool()             ? QLatin1String(v.toBool() ? "true" : "false")
                                     : QString();
        text += QLatin1Char(' ') + it.key() + QLatin1Char('=') + value;
    }
    return text.trimmed();
}

} // namespace

bool EventJson::fromJson(const QJsonObject &o, Event *event, QString *error)
{
    Event e;
    const auto fail = [error](const QString &text) {
        *error = text;
        return false;
    };

    const QString type = o.value(QLatin1String("type")).toString();
    if (!enumFromName(type, Event::Type::Reloaded, &Event::typeName, &e.type))
        return fail(QStringLiteral("event: unknown type \"%1\"").arg(Event::clip(type, 40)));

    const QJsonValue level = o.value(QLatin1String("level"));
    if (!level.isUndefined() && !Event::levelFromName(level.toString(), &e.level))
        return fail(QStringLiteral("event: unknown level"));

    const QJsonValue time = o.value(QLatin1String("time"));
    if (!time.isUndefined()) {
        const QDateTime t = QDateTime::fromString(time.toString(), Qt::ISODateWithMs);
        if (!t.isValid())
            return fail(QStringLiteral("event: invalid time"));
        e.time = t.toMSecsSinceEpoch();
    }

    // Numbers: absent is the default, present must be a whole number.
    struct Number
    {
        const char *key;
        qint64 *wide;
        int *narrow;
    };
    qint64 connection = 0;
    const Number numbers[] = {
        {"conn", &connection, nullptr},
        {"size", &e.size, nullptr},
        {"discarded", &e.discarded, nullptr},
        {"delivered", nullptr, &e.delivered},
        {"dropped", nullptr, &e.dropped},
        {"closeCode", nullptr, &e.closeCode},
    };
    for (const Number &n : numbers) {
        const QJsonValue v = o.value(QLatin1String(n.key));
        if (v.isUndefined() || v.isNull())
            continue;
        const bool ok = n.wide ? wholeNumber(v, n.wide) : wholeNumber(v, n.narrow);
        if (!ok)
            return fail(
                QStringLiteral("event: \"%1\" is not a whole number").arg(QLatin1String(n.key)));
    }
    if (connection < 0)
        return fail(QStringLiteral("event: \"conn\" is negative"));
    e.connection = quint64(connection);

    // Strings: anything but a string counts as absent.
    e.uid = o.value(QLatin1String("uid")).toString().toUtf8();
    e.peer = o.value(QLatin1String("peer")).toString();
    e.text = o.value(QLatin1String("text")).toString().toUtf8();
    e.detail = o.value(QLatin1String("detail")).toString();
    if (e.detail.isEmpty())
        e.detail = reasonText(o);

    const QJsonValue source = o.value(QLatin1String("source"));
    if (source.isString()
        && !enumFromName(source.toString(), PushSource::Cluster, &pushSourceName, &e.source))
        return fail(QStringLiteral("event: unknown source"));
    const QJsonValue status = o.value(QLatin1String("status"));
    if (status.isString()
        && !enumFromName(status.toString(), PushStatus::Queued, &pushStatusName, &e.status))
        return fail(QStringLiteral("event: unknown status"));

    e.limit();
    *event = e;
    return true;
}
