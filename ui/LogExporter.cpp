#include "LogExporter.h"

#include "Event.h"
#include "EventText.h"
#include "LogModel.h"

#include <QAbstractItemModel>
#include <QDateTime>
#include <QFileInfo>
#include <QIODevice>
#include <QJsonDocument>
#include <QJsonObject>

namespace {

QString isoTime(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
}

// The machine form of what the Result column says.
QString resultKey(const Event &e)
{
    switch (e.type) {
    case Event::Type::Push:
        return QString::fromLatin1(pushStatusName(e.status));
    case Event::Type::Rejected:
        return QStringLiteral("rejected");
    case Event::Type::Error:
        return QStringLiteral("error");
    default:
        return {};
    }
}

// Untranslated, like the headless log: a file outlives the console's language.
QString englishText(const Event &e)
{
    if (e.type == Event::Type::Push || e.type == Event::Type::MessageIn)
        return QString::fromUtf8(e.text);
    QString s = e.englishDetail();
    if (!e.text.isEmpty())
        s += (s.isEmpty() ? QString() : QStringLiteral(" ")) + QString::fromUtf8(e.text);
    return s;
}

QByteArray csvField(const QString &value)
{
    QByteArray bytes = value.toUtf8();
    if (bytes.contains(',') || bytes.contains('"') || bytes.contains('\n')
        || bytes.contains('\r')) {
        bytes.replace('"', "\"\"");
        bytes = '"' + bytes + '"';
    }
    return bytes;
}

} // namespace

LogExporter::Format LogExporter::formatForFileName(const QString &fileName)
{
    const QString suffix = QFileInfo(fileName).suffix().toLower();
    if (suffix == QLatin1String("jsonl") || suffix == QLatin1String("json")
        || suffix == QLatin1String("ndjson"))
        return Format::JsonLines;
    return Format::Csv;
}

int LogExporter::write(QIODevice *out, const QAbstractItemModel *model, Format format)
{
    if (format == Format::Csv
        && out->write("time,direction,event,uid,from,size,result,delivered,code,text\r\n") < 0)
        return -1;
    const int rows = model->rowCount();
    for (int row = 0; row < rows; ++row) {
        const Event e = model->index(row, 0).data(LogModel::EventRole).value<Event>();
        const QString direction = QString::fromLatin1(EventText::directionKey(e.direction()));
        const QString from = e.type == Event::Type::Push && e.source != PushSource::TextPort
            ? QString::fromLatin1(pushSourceName(e.source))
            : e.peer;
        QByteArray line;
        if (format == Format::Csv) {
            const QList<QString> fields = {
                isoTime(e.time),
                direction,
                QString::fromLatin1(Event::typeName(e.type)),
                QString::fromUtf8(e.uid),
                from,
                e.size >= 0 && e.type != Event::Type::Closed ? QString::number(e.size) : QString(),
                resultKey(e),
                e.type == Event::Type::Push ? QString::number(e.delivered) : QString(),
                e.closeCode ? QString::number(e.closeCode) : QString(),
                englishText(e),
            };
            for (qsizetype i = 0; i < fields.size(); ++i) {
                if (i)
                    line += ',';
                line += csvField(fields.at(i));
            }
            line += "\r\n";
        } else {
            QJsonObject o;
            o.insert(QStringLiteral("time"), isoTime(e.time));
            o.insert(QStringLiteral("direction"), direction);
            o.insert(QStringLiteral("event"), QString::fromLatin1(Event::typeName(e.type)));
            if (!e.uid.isEmpty())
                o.insert(QStringLiteral("uid"), QString::fromUtf8(e.uid));
            if (!from.isEmpty())
                o.insert(QStringLiteral("from"), from);
            if (e.connection)
                o.insert(QStringLiteral("connection"), qint64(e.connection));
            if (e.size >= 0 && e.type != Event::Type::Closed)
                o.insert(QStringLiteral("size"), e.size);
            if (!resultKey(e).isEmpty())
                o.insert(QStringLiteral("result"), resultKey(e));
            if (e.type == Event::Type::Push)
                o.insert(QStringLiteral("delivered"), e.delivered);
            if (e.closeCode)
                o.insert(QStringLiteral("code"), e.closeCode);
            o.insert(QStringLiteral("text"), englishText(e));
            line = QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
        }
        if (out->write(line) != line.size())
            return -1;
    }
    return rows;
}
