#pragma once

#include <QAbstractListModel>
#include <QList>
#include <QVariant>

// Recent manual pushes, newest first, so an operator can send one again.
// Sending an entry that is already there moves it to the top.
class PushHistoryModel final : public QAbstractListModel
{
    Q_OBJECT
public:
    struct Entry
    {
        QString targets;
        bool broadcast = false;
        QString payload; // as the operator wrote it
        qint64 time = 0; // ms since the epoch
        QString result; // what the last send answered, as shown
        bool ok = false;
    };
    static constexpr int DefaultCapacity = 30;

    explicit PushHistoryModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

    const Entry &entry(int row) const { return m_entries.at(row); }
    void add(const Entry &entry);
    void setCapacity(int capacity);
    int capacity() const { return m_capacity; }

    // For QSettings: a list of maps.
    QVariantList toVariant() const;
    void fromVariant(const QVariantList &list);

private:
    QList<Entry> m_entries;
    int m_capacity = DefaultCapacity;
};
