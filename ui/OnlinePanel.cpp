#include "OnlinePanel.h"

#include "ClusterStatus.h"
#include "ConnectionsModel.h"
#include "OnlineFilterProxy.h"
#include "OnlineModel.h"

#include <QButtonGroup>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

namespace {
void setUpTable(QTableView *view)
{
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setAlternatingRowColors(true);
    view->setSortingEnabled(true);
    view->setWordWrap(false);
    view->setTextElideMode(Qt::ElideRight);
    view->verticalHeader()->hide();
    view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    view->verticalHeader()->setDefaultSectionSize(view->fontMetrics().height() + 8);
    view->horizontalHeader()->setHighlightSections(false);
    view->horizontalHeader()->setStretchLastSection(false);
}

// At least as wide as the header needs, sort arrow included, in any language.
void fitColumn(QTableView *view, int column, int chars)
{
    const int wanted = view->fontMetrics().averageCharWidth() * chars;
    view->setColumnWidth(
        column, qMax(wanted, view->horizontalHeader()->sectionSizeHint(column) + 8));
}

QLabel *title(const QString &text, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    QFont f = label->font();
    f.setBold(true);
    label->setFont(f);
    return label;
}

QToolButton *scopeButton(const QString &text, const char *name, QWidget *parent)
{
    auto *b = new QToolButton(parent);
    b->setObjectName(QLatin1String(name));
    b->setText(text);
    b->setCheckable(true);
    b->setAutoRaise(true);
    return b;
}

const QString ScopeKey = QStringLiteral("online/scope");
} // namespace

OnlinePanel::OnlinePanel(GatewaySource *source, ClusterStatus *cluster, QWidget *parent)
    : QWidget(parent)
    , m_cluster(cluster)
    , m_model(new OnlineModel(source, this))
    , m_proxy(new OnlineFilterProxy(this))
    , m_connections(new ConnectionsModel(source, this))
{
    m_proxy->setSourceModel(m_model);

    m_search = new QLineEdit(this);
    m_search->setObjectName(QStringLiteral("onlineSearch"));
    m_search->setPlaceholderText(tr("Search uid (Ctrl+F)"));
    m_search->setClearButtonEnabled(true);
    m_search->setMaximumWidth(m_search->fontMetrics().averageCharWidth() * 36);
    connect(m_search, &QLineEdit::textChanged, m_proxy, &OnlineFilterProxy::setUidFilter);

    m_counts = new QLabel(this);
    m_counts->setObjectName(QStringLiteral("onlineCounts"));
    connect(m_model, &OnlineModel::countsChanged, this, &OnlinePanel::updateCounts);

    // The scope switch: two toggles like the log's direction buttons, shown
    // in cluster mode only.
    m_scopeSwitch = new QWidget(this);
    m_scopeSwitch->setObjectName(QStringLiteral("onlineScope"));
    m_thisNode = scopeButton(tr("This node"), "scopeThisNode", m_scopeSwitch);
    m_thisNode->setToolTip(tr("Only the uids connected to this gateway"));
    m_wholeCluster = scopeButton(tr("Whole cluster"), "scopeCluster", m_scopeSwitch);
    m_wholeCluster->setToolTip(
        tr("The uids of every gateway in the cluster, with the node each is connected to"));
    auto *group = new QButtonGroup(m_scopeSwitch);
    group->addButton(m_thisNode);
    group->addButton(m_wholeCluster);
    connect(m_thisNode, &QToolButton::clicked, this, [this] { setScope(Scope::ThisNode); });
    connect(m_wholeCluster, &QToolButton::clicked, this, [this] { setScope(Scope::WholeCluster); });
    auto *scopeLayout = new QHBoxLayout(m_scopeSwitch);
    scopeLayout->setContentsMargins(0, 0, 0, 0);
    scopeLayout->setSpacing(0);
    scopeLayout->addWidget(new QLabel(tr("Show:"), m_scopeSwitch));
    scopeLayout->addSpacing(4);
    scopeLayout->addWidget(m_thisNode);
    scopeLayout->addWidget(m_wholeCluster);
    m_scopeSwitch->hide();

    m_linkDown = new QLabel(this);
    m_linkDown->setObjectName(QStringLiteral("clusterLinkDown"));
    m_linkDown->setWordWrap(true);
    m_linkDown->setText(tr("The link to the cluster is down: only this node's uids are shown, and "
                           "pushes to uids on other nodes fail. Local delivery goes on; "
                           "reconnecting to Redis…"));
    m_linkDown->setStyleSheet(QStringLiteral(
        "#clusterLinkDown { background: #fff4e5; color: #6b3a00; border: 1px solid #f0c36d;"
        " border-radius: 4px; padding: 4px 8px; }"));
    m_linkDown->hide();

    m_view = new QTableView(this);
    m_view->setObjectName(QStringLiteral("onlineView"));
    m_view->setModel(m_proxy);
    setUpTable(m_view);
    m_view->sortByColumn(OnlineModel::UidColumn, Qt::AscendingOrder);
    fitColumn(m_view, OnlineModel::UidColumn, 20);
    fitColumn(m_view, OnlineModel::NodeColumn, 14);
    fitColumn(m_view, OnlineModel::ConnectionsColumn, 6);
    fitColumn(m_view, OnlineModel::ConnectedColumn, 10);
    fitColumn(m_view, OnlineModel::ActivityColumn, 15);
    fitColumn(m_view, OnlineModel::InColumn, 8);
    fitColumn(m_view, OnlineModel::OutColumn, 8);
    m_view->horizontalHeader()->setSectionResizeMode(
        OnlineModel::PeersColumn, QHeaderView::Stretch);

    m_detailTitle = title(QString(), this);
    m_detailNote = new QLabel(this);
    m_detailNote->setObjectName(QStringLiteral("connectionsNote"));
    m_detailNote->setWordWrap(true);
    m_detailNote->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_detailNote->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_detailNote->hide();
    m_detailView = new QTableView(this);
    m_detailView->setObjectName(QStringLiteral("connectionsView"));
    auto *detailProxy = new QSortFilterProxyModel(this);
    detailProxy->setSourceModel(m_connections);
    detailProxy->setSortRole(ConnectionsModel::SortRole);
    m_detailView->setModel(detailProxy);
    setUpTable(m_detailView);
    m_detailView->sortByColumn(ConnectionsModel::IdColumn, Qt::AscendingOrder);
    m_detailView->setSelectionMode(QAbstractItemView::NoSelection);
    fitColumn(m_detailView, ConnectionsModel::IdColumn, 6);
    fitColumn(m_detailView, ConnectionsModel::ConnectedColumn, 10);
    fitColumn(m_detailView, ConnectionsModel::ActivityColumn, 15);
    for (int c = ConnectionsModel::InColumn; c <= ConnectionsModel::BytesOutColumn; ++c)
        fitColumn(m_detailView, c, 8);
    m_detailView->horizontalHeader()->setSectionResizeMode(
        ConnectionsModel::PeerColumn, QHeaderView::Stretch);

    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        updateDetails();
        Q_EMIT selectionChanged(selectedUids());
    });
    // The selected uid may go offline (or come back) without a selection change.
    connect(m_model, &OnlineModel::countsChanged, this, &OnlinePanel::updateDetails);

    auto *header = new QHBoxLayout;
    header->addWidget(title(tr("Online"), this));
    header->addSpacing(8);
    header->addWidget(m_counts);
    header->addStretch(1);
    header->addWidget(m_scopeSwitch);
    header->addSpacing(8);
    header->addWidget(m_search);

    auto *top = new QWidget(this);
    auto *topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    topLayout->addLayout(header);
    topLayout->addWidget(m_linkDown);
    topLayout->addWidget(m_view);

    auto *bottom = new QWidget(this);
    auto *bottomLayout = new QVBoxLayout(bottom);
    bottomLayout->setContentsMargins(0, 4, 0, 0);
    bottomLayout->addWidget(m_detailTitle);
    bottomLayout->addWidget(m_detailNote, 1);
    bottomLayout->addWidget(m_detailView, 1);

    m_splitter = new QSplitter(Qt::Vertical, this);
    m_splitter->setObjectName(QStringLiteral("onlineSplitter"));
    m_splitter->addWidget(top);
    m_splitter->addWidget(bottom);
    m_splitter->setStretchFactor(0, 3);
    m_splitter->setStretchFactor(1, 1);
    m_splitter->setChildrenCollapsible(false);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_splitter);

    const QString savedScope = QSettings().value(ScopeKey).toString();
    m_scope = savedScope == QLatin1String("node") ? Scope::ThisNode : Scope::WholeCluster;
    (m_scope == Scope::ThisNode ? m_thisNode : m_wholeCluster)->setChecked(true);
    connect(m_cluster, &ClusterStatus::attached, this, &OnlinePanel::attachCluster);
    connect(m_cluster, &ClusterStatus::stateChanged, this, &OnlinePanel::updateClusterState);
    connect(m_cluster, &ClusterStatus::changed, this, &OnlinePanel::updateCounts);
    attachCluster();
    updateNodeColumn();
    updateCounts();
    updateDetails();
}

void OnlinePanel::attachCluster()
{
    if (!m_cluster->isEnabled())
        return;
    m_proxy->setThisNodeOnly(m_scope == Scope::ThisNode);
    m_scopeSwitch->show();
    updateNodeColumn();
    updateClusterState();
}

void OnlinePanel::setScope(Scope scope)
{
    (scope == Scope::ThisNode ? m_thisNode : m_wholeCluster)->setChecked(true);
    if (scope == m_scope)
        return;
    m_scope = scope;
    QSettings().setValue(
        ScopeKey, scope == Scope::ThisNode ? QStringLiteral("node") : QStringLiteral("cluster"));
    // Outside cluster mode every row is this node's anyway.
    m_proxy->setThisNodeOnly(m_cluster->isEnabled() && scope == Scope::ThisNode);
    updateNodeColumn();
}

void OnlinePanel::updateNodeColumn()
{
    m_view->setColumnHidden(
        OnlineModel::NodeColumn, !m_cluster->isEnabled() || m_scope == Scope::ThisNode);
}

void OnlinePanel::updateClusterState()
{
    m_linkDown->setVisible(m_cluster->state() == ClusterStatus::State::Down);
    updateCounts();
}

void OnlinePanel::restoreHeaderState(const QByteArray &state)
{
    m_view->horizontalHeader()->restoreState(state);
    updateNodeColumn();
}

QByteArray OnlinePanel::saveHeaderState() const
{
    return m_view->horizontalHeader()->saveState();
}

QStringList OnlinePanel::selectedLocalUids() const
{
    QStringList uids = selectedUids();
    uids.removeIf([this](const QString &uid) { return !m_model->isLocal(uid.toUtf8()); });
    return uids;
}

QStringList OnlinePanel::selectedUids() const
{
    QStringList uids;
    const QModelIndexList rows = m_view->selectionModel()->selectedRows(OnlineModel::UidColumn);
    for (const QModelIndex &index : rows)
        uids.append(index.data(OnlineModel::UidRole).toString());
    return uids;
}

void OnlinePanel::focusSearch()
{
    m_search->setFocus();
    m_search->selectAll();
}

void OnlinePanel::updateCounts()
{
    const QLocale locale;
    const QString uids = locale.toString(m_model->localUidCount());
    const QString connections = locale.toString(m_model->connectionCount());
    switch (m_cluster->state()) {
    case ClusterStatus::State::Off:
        m_counts->setText(tr("uids: %1 · connections: %2").arg(uids, connections));
        break;
    case ClusterStatus::State::Joining:
        m_counts->setText(
            tr("uids here: %1 · connections: %2 · joining the cluster…").arg(uids, connections));
        break;
    case ClusterStatus::State::Down:
        m_counts->setText(
            tr("uids here: %1 · connections: %2 · cluster link down").arg(uids, connections));
        break;
    case ClusterStatus::State::Up: {
        // Every row is a distinct uid: this node's and the others' together.
        const int nodes = qMax(1, m_cluster->nodeCount());
        m_counts->setText(
            tr("uids here: %1 · connections: %2 · uids in the cluster: %3 · nodes: %4")
                .arg(uids, connections, locale.toString(m_model->rowCount()),
                    locale.toString(nodes)));
        break;
    }
    }
}

void OnlinePanel::updateDetails()
{
    const QStringList uids = selectedUids();
    const QByteArray uid = uids.size() == 1 ? uids.front().toUtf8() : QByteArray();
    m_connections->setUid(uid);
    const QStringList others = m_model->otherNodesOf(uid);
    const bool elsewhereOnly = !uid.isEmpty() && !others.isEmpty() && !m_model->isLocal(uid);
    const QString nodes = others.join(QStringLiteral(", "));
    if (uids.isEmpty())
        m_detailTitle->setText(tr("Connections: select a uid to see them"));
    else if (uids.size() > 1)
        m_detailTitle->setText(tr("Connections: %1 uids selected").arg(uids.size()));
    else if (!others.isEmpty() && !elsewhereOnly)
        m_detailTitle->setText(
            tr("Connections of %1 on this node (also connected to %2)").arg(uids.front(), nodes));
    else
        m_detailTitle->setText(tr("Connections of %1").arg(uids.front()));
    // A uid held by another node: this node knows where, not its connections.
    if (elsewhereOnly) {
        m_detailNote->setText(tr("%1 is connected to %2, not to this node, so its connections "
                                 "are listed in that node's console. Pushes from here still "
                                 "reach it through the cluster.")
                                  .arg(uids.front(), nodes));
    }
    m_detailNote->setVisible(elsewhereOnly);
    m_detailView->setVisible(!elsewhereOnly);
}
