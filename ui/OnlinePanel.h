#pragma once

#include <QWidget>

class ConnectionsModel;
class OnlineModel;
class PushServer;
class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QSplitter;
class QTableView;

// Who is online: one row per uid with a search box, the totals, and the
// connections of the selected uid underneath.
class OnlinePanel final : public QWidget
{
    Q_OBJECT
public:
    explicit OnlinePanel(PushServer *server, QWidget *parent = nullptr);

    OnlineModel *model() const { return m_model; }
    QTableView *view() const { return m_view; }
    QSplitter *splitter() const { return m_splitter; }
    QStringList selectedUids() const;
    void focusSearch();

Q_SIGNALS:
    void selectionChanged(const QStringList &uids);

private:
    void updateCounts(int uids, int connections);
    void updateDetails();

    OnlineModel *m_model;
    QSortFilterProxyModel *m_proxy;
    ConnectionsModel *m_connections;
    QLineEdit *m_search;
    QLabel *m_counts;
    QLabel *m_detailTitle;
    QTableView *m_view;
    QTableView *m_detailView;
    QSplitter *m_splitter;
};
