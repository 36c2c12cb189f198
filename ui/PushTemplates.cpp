#include "PushTemplates.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>

namespace {
// A translated phrase as a JSON string literal, escapes and all.
QString jsonString(const QString &text)
{
    const QByteArray array = QJsonDocument(QJsonArray {text}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(array.mid(1, array.size() - 2));
}
} // namespace

QList<PushTemplates::Template> PushTemplates::all()
{
    const QString now = QString::number(QDateTime::currentSecsSinceEpoch());
    return {
        {tr("Lock closed (the seed's callback)"),
            QStringLiteral("{\n"
                           "  \"type\": \"lock_closed\",\n"
                           "  \"order_id\": \"20200113000123\",\n"
                           "  \"bike_id\": \"SB-10086\",\n"
                           "  \"time\": %1,\n"
                           "  \"msg\": %2\n"
                           "}")
                .arg(now, jsonString(tr("The lock has closed. Your ride is over.")))},
        {tr("Text message"),
            QStringLiteral("{\n"
                           "  \"type\": \"message\",\n"
                           "  \"msg\": %1\n"
                           "}")
                .arg(jsonString(tr("Hello from the operator")))},
        {tr("Order status"),
            QStringLiteral("{\n"
                           "  \"type\": \"order_status\",\n"
                           "  \"order_id\": \"20200113000123\",\n"
                           "  \"status\": \"paid\",\n"
                           "  \"amount\": 150\n"
                           "}")},
        {tr("Empty object"), QStringLiteral("{\n}")},
    };
}
