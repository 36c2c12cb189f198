#pragma once

#include <QByteArray>
#include <QList>

#include <utility>

// Writes the Prometheus text exposition format, version 0.0.4: each family
// gets one "# HELP" and one "# TYPE" line, then its samples. Metric and
// label names are ours and fixed; label values and help texts are escaped.
class PrometheusExporter final
{
public:
    using Labels = QList<std::pair<QByteArray, QByteArray>>;

    static constexpr char ContentType[] = "text/plain; version=0.0.4; charset=utf-8";

    void counter(const char *name, const char *help, quint64 value);
    void gauge(const char *name, const char *help, double value);

    // A family with labelled samples: family() once, then sample() per series.
    void family(const char *name, const char *type, const char *help);
    void sample(const char *name, const Labels &labels, double value);

    // bucketCounts has boundCount + 1 entries (the last is +Inf), each the
    // count of its own bucket; the output is cumulative as the format wants.
    void histogram(const char *name, const char *help, const double *upperBounds, int boundCount,
        const quint64 *bucketCounts, double sum);

    const QByteArray &text() const { return m_out; }

    static QByteArray formatValue(double value);

private:
    void line(const char *name, const char *suffix, const Labels &labels, const QByteArray &value);

    QByteArray m_out;
};
