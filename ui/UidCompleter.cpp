#include "UidCompleter.h"

#include <QLineEdit>
#include <QRegularExpression>

namespace {
// Where the uid being typed starts: after the last separator.
qsizetype lastUidStart(const QString &text)
{
    static const QRegularExpression separator(QStringLiteral("[,;\\s]"));
    return text.lastIndexOf(separator) + 1;
}
} // namespace

UidCompleter::UidCompleter(QAbstractItemModel *model, QLineEdit *edit)
    : QCompleter(model, edit)
    , m_edit(edit)
{
    setCaseSensitivity(Qt::CaseInsensitive);
    setCompletionRole(Qt::DisplayRole);
    setCompletionColumn(0);
    edit->setCompleter(this);
}

QStringList UidCompleter::splitPath(const QString &path) const
{
    return {path.mid(lastUidStart(path))};
}

QString UidCompleter::pathFromIndex(const QModelIndex &index) const
{
    const QString text = m_edit->text();
    return text.left(lastUidStart(text)) + QCompleter::pathFromIndex(index);
}
