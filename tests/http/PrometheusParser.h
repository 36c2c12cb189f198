#pragma once

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QString>

// A strict reader of the Prometheus text exposition format 0.0.4, written
// for the tests from the format's description (not from our exporter), so
// that it can catch what the exporter gets wrong. Stricter than Prometheus
// itself where our output should be: every family needs # TYPE, counters end
// in _total, histograms must be complete and cumulative.
class PrometheusParser final
{
public:
    using Labels = QMap<QByteArray, QByteArray>;
    struct Sample
    {
        QByteArray name;
        Labels labels;
        double value = 0;
    };
    struct Family
    {
        QByteArray name;
        QByteArray type;
        QByteArray help;
        QList<Sample> samples;
    };

    // False on the first violation; error() says which line and why.
    bool parse(const QByteArray &text);
    QString error() const { return m_error; }

    const QMap<QByteArray, Family> &families() const { return m_families; }
    // The value of one series, or NaN when there is none.
    double value(const QByteArray &name, const Labels &labels = {}) const;

private:
    bool fail(const QString &why);
    bool parseComment(const QByteArray &line);
    bool parseSample(const QByteArray &line);
    bool checkFamily(const Family &family);
    Family *familyOf(const QByteArray &sampleName);

    QMap<QByteArray, Family> m_families;
    QByteArray m_current; // family of the group being read
    QList<QByteArray> m_closed; // families whose group has ended
    int m_line = 0;
    QString m_error;
};
