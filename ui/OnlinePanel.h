#pragma once

#include <QWidget>

class ClusterStatus;
class ConnectionsModel;
class GatewaySource;
class OnlineFilterProxy;
class OnlineModel;
class QLabel;
class QLineEdit;
class QSplitter;
class QTableView;
class QToolButton;

// Who is online: one row per uid with a search box, the totals, and the
// connections of the selected uid underneath. In cluster mode a switch
// shows the whole cluster (with a node column) or this node only, and a
// bar says when the link to the cluster is down.
class OnlinePanel final : public QWidget
{
    Q_OBJECT
public:
    enum class Scope { ThisNode, WholeCluster };

    OnlinePanel(GatewaySource *source, ClusterStatus *cluster, QWidget *parent = nullptr);

    OnlineModel *model() const { return m_model; }
    QTableView *view() const { return m_view; }
    QSplitter *splitter() const { return m_splitter; }
    QStringList selectedUids() const;
    // Of the selected uids, those with connections on this node.
    QStringList selectedLocalUids() const;
    void focusSearch();

    Scope scope() const { return m_scope; }
    void setScope(Scope scope);
    // Column widths and order as saved; the node column stays hidden
    // outside cluster mode whatever the saved state says.
    void restoreHeaderState(const QByteArray &state);
    QByteArray saveHeaderState() const;

Q_SIGNALS:
    void selectionChanged(const QStringList &uids);

private:
    // Cluster mode starts with the gateway's first successful start, which
    // may come after the window opened (a busy port at start).
    void attachCluster();
    void updateCounts();
    void updateDetails();
    void updateClusterState();
    void updateNodeColumn();

    ClusterStatus *m_cluster;
    OnlineModel *m_model;
    OnlineFilterProxy *m_proxy;
    ConnectionsModel *m_connections;
    Scope m_scope = Scope::WholeCluster;
    QLineEdit *m_search;
    QLabel *m_counts;
    QWidget *m_scopeSwitch;
    QToolButton *m_thisNode;
    QToolButton *m_wholeCluster;
    QLabel *m_linkDown;
    QLabel *m_detailTitle;
    QLabel *m_detailNote;
    QTableView *m_view;
    QTableView *m_detailView;
    QSplitter *m_splitter;
};
