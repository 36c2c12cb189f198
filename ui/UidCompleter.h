#pragma once

#include <QCompleter>

class QLineEdit;

// Completes the last uid of a list ("1001, 10|" offers 1002, 1003, ...)
// and keeps the uids typed before it.
class UidCompleter final : public QCompleter
{
    Q_OBJECT
public:
    UidCompleter(QAbstractItemModel *model, QLineEdit *edit);

    QStringList splitPath(const QString &path) const override;
    QString pathFromIndex(const QModelIndex &index) const override;

private:
    QLineEdit *m_edit;
};
