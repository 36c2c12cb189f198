#include "PrometheusParser.h"

#include <QRegularExpression>
#include <QSet>

#include <cmath>
#include <limits>

namespace {

bool isMetricName(QByteArrayView name)
{
    static const QRegularExpression re(QStringLiteral("^[a-zA-Z_:][a-zA-Z0-9_:]*$"));
    return re.match(QString::fromLatin1(name)).hasMatch();
}

bool isLabelName(QByteArrayView name)
{
    static const QRegularExpression re(QStringLiteral("^[a-zA-Z_][a-zA-Z0-9_]*$"));
    return re.match(QString::fromLatin1(name)).hasMatch() && !name.startsWith("__");
}

// Go's strconv.ParseFloat as Prometheus uses it, for the forms that matter.
bool parseValue(QByteArrayView text, double *out)
{
    if (text == "+Inf" || text == "Inf") {
        *out = std::numeric_limits<double>::infinity();
        return true;
    }
    if (text == "-Inf") {
        *out = -std::numeric_limits<double>::infinity();
        return true;
    }
    if (text == "NaN") {
        *out = std::numeric_limits<double>::quiet_NaN();
        return true;
    }
    static const QRegularExpression re(
        QStringLiteral(R"(^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$)"));
    if (!re.match(QString::fromLatin1(text)).hasMatch())
        return false;
    bool ok = false;
    *out = text.toDouble(&ok);
    return ok;
}

QByteArray seriesKey(const QByteArray &name, const PrometheusParser::Labels &labels)
{
    QByteArray key = name;
    for (auto it = labels.cbegin(); it != labels.cend(); ++it)
        key += '\x01' + it.key() + '\x02' + it.value();
    return key;
}

} // namespace

bool PrometheusParser::fail(const QString &why)
{
    m_error = QStringLiteral("line %1: %2").arg(m_line).arg(why);
    return false;
}

bool PrometheusParser::parse(const QByteArray &text)
{
    m_families.clear();
    m_current.clear();
    m_closed.clear();
    m_error.clear();
    m_line = 0;
    if (text.isEmpty())
        return fail(QStringLiteral("empty exposition"));
    if (!text.endsWith('\n'))
        return fail(QStringLiteral("the last line does not end with a line feed"));
    const QList<QByteArray> lines = text.chopped(1).split('\n');
    QSet<QByteArray> series;
    for (const QByteArray &line : lines) {
        ++m_line;
        if (line.contains('\r'))
            return fail(QStringLiteral("carriage return"));
        if (line.trimmed().isEmpty())
            continue;
        if (line.startsWith('#')) {
            if (!parseComment(line))
                return false;
            continue;
        }
        if (!parseSample(line))
            return false;
        const Sample &s = familyOf(m_current)->samples.back();
        if (series.contains(seriesKey(s.name, s.labels)))
            return fail(QStringLiteral("series repeated: ") + QString::fromUtf8(line));
        series.insert(seriesKey(s.name, s.labels));
    }
    for (const Family &f : std::as_const(m_families)) {
        if (!checkFamily(f))
            return false;
    }
    return true;
}

bool PrometheusParser::parseComment(const QByteArray &line)
{
    const QList<QByteArray> parts = line.split(' ');
    if (parts.size() < 3 || parts[0] != "#" || (parts[1] != "HELP" && parts[1] != "TYPE"))
        return true; // any other comment is allowed
    const QByteArray name = parts[2];
    if (!isMetricName(name))
        return fail(QStringLiteral("bad metric name in comment: ") + QString::fromUtf8(name));
    if (m_closed.contains(name))
        return fail(
            QStringLiteral("family %1 continues after another began").arg(QString::fromUtf8(name)));
    if (!m_current.isEmpty() && m_current != name)
        m_closed.append(m_current);
    m_current = name;
    Family &f = m_families[name];
    f.name = name;
    const QByteArray rest = line.mid(parts[0].size() + parts[1].size() + name.size() + 3);
    if (parts[1] == "HELP") {
        if (!f.help.isEmpty())
            return fail(QStringLiteral("second HELP for ") + QString::fromUtf8(name));
        for (qsizetype i = 0; i < rest.size(); ++i) {
            if (rest[i] == '\\') {
                if (i + 1 >= rest.size() || (rest[i + 1] != '\\' && rest[i + 1] != 'n'))
                    return fail(QStringLiteral("bad escape in HELP"));
                ++i;
            }
        }
        f.help = rest.isEmpty() ? QByteArray(" ") : rest;
        return true;
    }
    if (!f.type.isEmpty())
        return fail(QStringLiteral("second TYPE for ") + QString::fromUtf8(name));
    if (!f.samples.isEmpty())
        return fail(QStringLiteral("TYPE after the first sample of ") + QString::fromUtf8(name));
    static const QList<QByteArray> types = {"counter", "gauge", "histogram", "summary", "untyped"};
    if (!types.contains(rest))
        return fail(QStringLiteral("unknown type: ") + QString::fromUtf8(rest));
    f.type = rest;
    return true;
}

PrometheusParser::Family *PrometheusParser::familyOf(const QByteArray &sampleName)
{
    if (m_families.contains(sampleName))
        return &m_families[sampleName];
    for (const char *suffix : {"_bucket", "_sum", "_count"}) {
        if (sampleName.endsWith(suffix)) {
            const QByteArray base = sampleName.chopped(qstrlen(suffix));
            auto it = m_families.find(base);
            if (it != m_families.end() && (it->type == "histogram" || it->type == "summary"))
                return &it.value();
        }
    }
    return nullptr;
}

bool PrometheusParser::parseSample(const QByteArray &line)
{
    qsizetype i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ')
        ++i;
    Sample s;
    s.name = line.left(i);
    if (!isMetricName(s.name))
        return fail(QStringLiteral("bad metric name: ") + QString::fromUtf8(s.name));
    if (i < line.size() && line[i] == '{') {
        ++i;
        for (;;) {
            if (i < line.size() && line[i] == '}') {
                ++i;
                break;
            }
            qsizetype eq = line.indexOf('=', i);
            if (eq < 0)
                return fail(QStringLiteral("label without ="));
            const QByteArray labelName = line.mid(i, eq - i);
            if (!isLabelName(labelName))
                return fail(QStringLiteral("bad label name: ") + QString::fromUtf8(labelName));
            if (s.labels.contains(labelName))
                return fail(QStringLiteral("label repeated: ") + QString::fromUtf8(labelName));
            i = eq + 1;
            if (i >= line.size() || line[i] != '"')
                return fail(QStringLiteral("label value not quoted"));
            ++i;
            QByteArray value;
            for (;;) {
                if (i >= line.size())
                    return fail(QStringLiteral("unterminated label value"));
                const char c = line[i++];
                if (c == '"')
                    break;
                if (c == '\\') {
                    if (i >= line.size())
                        return fail(QStringLiteral("unterminated escape"));
                    const char e = line[i++];
                    if (e == '\\')
                        value += '\\';
                    else if (e == '"')
                        value += '"';
                    else if (e == 'n')
                        value += '\n';
                    else
                        return fail(QStringLiteral("bad escape in label value"));
                } else {
                    value += c;
                }
            }
            s.labels.insert(labelName, value);
            if (i < line.size() && line[i] == ',') {
                ++i;
                continue;
            }
            if (i < line.size() && line[i] == '}') {
                ++i;
                break;
            }
            return fail(QStringLiteral("expected , or } after a label"));
        }
    }
    if (i >= line.size() || line[i] != ' ')
        return fail(QStringLiteral("no value"));
    const QList<QByteArray> rest = line.mid(i + 1).trimmed().split(' ');
    if (rest.isEmpty() || rest.size() > 2)
        return fail(QStringLiteral("expected a value and at most a timestamp"));
    if (!parseValue(rest[0], &s.value))
        return fail(QStringLiteral("bad value: ") + QString::fromUtf8(rest[0]));
    if (rest.size() == 2) {
        bool ok = false;
        rest[1].toLongLong(&ok);
        if (!ok)
            return fail(QStringLiteral("bad timestamp"));
    }
    Family *family = familyOf(s.name);
    if (!family || family->type.isEmpty())
        return fail(QStringLiteral("sample before its # TYPE: ") + QString::fromUtf8(s.name));
    if (family->name != m_current)
        return fail(
            QStringLiteral("sample outside its family's group: ") + QString::fromUtf8(s.name));
    if (family->type == "histogram") {
        const bool bucket = s.name == family->name + "_bucket";
        if (!bucket && s.name != family->name + "_sum" && s.name != family->name + "_count")
            return fail(QStringLiteral("histogram sample must be _bucket, _sum or _count"));
        if (bucket != s.labels.contains("le"))
            return fail(QStringLiteral("le label on a bucket only"));
    } else if (family->type == "counter" && (std::isnan(s.value) || s.value < 0)) {
        return fail(QStringLiteral("negative counter"));
    }
    family->samples.append(s);
    return true;
}

bool PrometheusParser::checkFamily(const Family &f)
{
    m_line = 0;
    if (f.type.isEmpty())
        return fail(QStringLiteral("no # TYPE for ") + QString::fromUtf8(f.name));
    if (f.help.isEmpty())
        return fail(QStringLiteral("no # HELP for ") + QString::fromUtf8(f.name));
    if (f.type == "counter" && !f.name.endsWith("_total"))
        return fail(QStringLiteral("counter name without _total: ") + QString::fromUtf8(f.name));
    if (f.type != "histogram")
        return true;
    // Per series (labels without le): buckets ascending by le, cumulative,
    // ending with +Inf, which equals _count; _sum present.
    QMap<QByteArray, QList<std::pair<double, double>>> buckets;
    QMap<QByteArray, double> counts;
    QSet<QByteArray> sums;
    for (const Sample &s : f.samples) {
        Labels rest = s.labels;
        rest.remove("le");
        const QByteArray key = seriesKey({}, rest);
        if (s.name.endsWith("_bucket")) {
            double le = 0;
            if (!parseValue(s.labels.value("le"), &le) || std::isnan(le))
                return fail(QStringLiteral("bad le: ") + QString::fromUtf8(s.labels.value("le")));
            buckets[key].append({le, s.value});
        } else if (s.name.endsWith("_count")) {
            counts.insert(key, s.value);
        } else {
            sums.insert(key);
        }
    }
    if (buckets.isEmpty())
        return fail(QStringLiteral("histogram without buckets: ") + QString::fromUtf8(f.name));
    for (auto it = buckets.cbegin(); it != buckets.cend(); ++it) {
        const auto &list = it.value();
        for (qsizetype i = 1; i < list.size(); ++i) {
            if (!(list[i].first > list[i - 1].first))
                return fail(QStringLiteral("buckets of %1 not in ascending le order")
                                .arg(QString::fromUtf8(f.name)));
            if (list[i].second < list[i - 1].second)
                return fail(
                    QStringLiteral("buckets of %1 not cumulative").arg(QString::fromUtf8(f.name)));
        }
        if (!std::isinf(list.back().first))
            return fail(QStringLiteral("no +Inf bucket in ") + QString::fromUtf8(f.name));
        if (!counts.contains(it.key()) || counts.value(it.key()) != list.back().second)
            return fail(
                QStringLiteral("+Inf bucket differs from _count in ") + QString::fromUtf8(f.name));
        if (!sums.contains(it.key()))
            return fail(QStringLiteral("no _sum in ") + QString::fromUtf8(f.name));
    }
    return true;
}

double PrometheusParser::value(const QByteArray &name, const Labels &labels) const
{
    for (const Family &f : m_families) {
        for (const Sample &s : f.samples) {
            if (s.name == name && s.labels == labels)
                return s.value;
        }
    }
    return std::numeric_limits<double>::quiet_NaN();
}
