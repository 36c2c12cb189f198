#pragma once

#include <QCoreApplication>
#include <QString>

class QAbstractItemModel;
class QIODevice;

// Writes the rows a log view shows (any model over LogModel, filtered or
// not) as CSV or JSON lines, with stable English field names and UTC times
// so the file can be read by scripts whatever the console's language.
class LogExporter final
{
    Q_DECLARE_TR_FUNCTIONS(LogExporter)
public:
    enum class Format { Csv, JsonLines };

    // From the chosen name's suffix; CSV unless it says .json/.jsonl/.ndjson.
    static Format formatForFileName(const QString &fileName);
    // Returns the number of rows written, or -1 when the device failed.
    static int write(QIODevice *out, const QAbstractItemModel *model, Format format);
};
