#include "PrometheusExporter.h"

#include <QLocale>

#include <cmath>

namespace {

void appendEscaped(QByteArray &out, QByteArrayView text, bool quoteToo)
{
    for (char c : text) {
        if (c == '\\')
            out.append("\\\\");
        else if (c == '\n')
            out.append("\\n");
        else if (c == '"' && quoteToo)
            out.append("\\\"");
        else
            out.append(c);
    }
}

} // namespace

QByteArray PrometheusExporter::formatValue(double value)
{
    if (std::isnan(value))
        return QByteArrayLiteral("NaN");
    if (std::isinf(value))
        return value > 0 ? QByteArrayLiteral("+Inf") : QByteArrayLiteral("-Inf");
    // Counters are whole numbers: print them without an exponent, exactly.
    if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0)
        return QByteArray::number(qint64(value));
    return QByteArray::number(value, 'g', QLocale::FloatingPointShortest);
}

void PrometheusExporter::counter(const char *name, const char *help, quint64 value)
{
    family(name, "counter", help);
    line(name, "", {}, QByteArray::number(value));
}

void PrometheusExporter::gauge(const char *name, const char *help, double value)
{
    family(name, "gauge", help);
    line(name, "", {}, formatValue(value));
}

void PrometheusExporter::family(const char *name, const char *type, const char *help)
{
    m_out.append("# HELP ");
    m_out.append(name);
    m_out.append(' ');
    appendEscaped(m_out, help, false);
    m_out.append("\n# TYPE ");
    m_out.append(name);
    m_out.append(' ');
    m_out.append(type);
    m_out.append('\n');
}

void PrometheusExporter::sample(const char *name, const Labels &labels, double value)
{
    line(name, "", labels, formatValue(value));
}

void PrometheusExporter::histogram(const char *name, const char *help, const double *upperBounds,
    int boundCount, const quint64 *bucketCounts, double sum)
{
    family(name, "histogram", help);
    quint64 cumulative = 0;
    for (int i = 0; i <= boundCount; ++i) {
        cumulative += bucketCounts[i];
        const QByteArray le = i < boundCount
            ? QByteArray::number(upperBounds[i], 'g', QLocale::FloatingPointShortest)
            : QByteArrayLiteral("+Inf");
        line(name, "_bucket", {{"le", le}}, QByteArray::number(cumulative));
    }
    line(name, "_sum", {}, formatValue(sum));
    line(name, "_count", {}, QByteArray::number(cumulative));
}

void PrometheusExporter::line(
    const char *name, const char *suffix, const Labels &labels, const QByteArray &value)
{
    m_out.append(name);
    m_out.append(suffix);
    if (!labels.isEmpty()) {
        m_out.append('{');
        for (qsizetype i = 0; i < labels.size(); ++i) {
            if (i)
                m_out.append(',');
            m_out.append(labels[i].first);
            m_out.append("=\"");
            appendEscaped(m_out, labels[i].second, true);
            m_out.append('"');
        }
        m_out.append('}');
    }
    m_out.append(' ');
    m_out.append(value);
    m_out.append('\n');
}
