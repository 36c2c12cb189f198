#include "OnlinePanel.h"

#include "ConnectionsModel.h"
#include "OnlineModel.h"
#include "PushServer.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
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
} // namespace

OnlinePanel::OnlinePanel(PushServer *server, QWidget *parent)
    : QWidget(parent)
    , m_model(new OnlineModel(server->registry(), this))
    , m_proxy(new QSortFilterProxyModel(this))
    , m_connections(new ConnectionsModel(server->registry(), this))
{
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(OnlineModel::SortRole);
    m_proxy->setFilterKeyColumn(OnlineModel::UidColumn);
    m_proxy->setFilterRole(OnlineModel::UidRole);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);

    m_search = new QLineEdit(this);
    m_search->setObjectName(QStringLiteral("onlineSearch"));
    m_search->setPlaceholderText(tr("Search uid (Ctrl+F)"));
    m_search->setClearButtonEnabled(true);
    m_search->setMaximumWidth(m_search->fontMetrics().averageCharWidth() * 36);
    connect(m_search, &QLineEdit::textChanged, m_proxy,
        [this](const QString &text) { m_proxy->setFilterFixedString(text.trimmed()); });

    m_counts = new QLabel(this);
    m_counts->setObjectName(QStringLiteral("onlineCounts"));
    connect(m_model, &OnlineModel::countsChanged, this, &OnlinePanel::updateCounts);
    updateCounts(m_model->rowCount(), m_model->connectionCount());

    m_view = new QTableView(this);
    m_view->setObjectName(QStringLiteral("onlineView"));
    m_view->setModel(m_proxy);
    setUpTable(m_view);
    m_view->sortByColumn(OnlineModel::UidColumn, Qt::AscendingOrder);
    fitColumn(m_view, OnlineModel::UidColumn, 20);
    fitColumn(m_view, OnlineModel::ConnectionsColumn, 6);
    fitColumn(m_view, OnlineModel::ConnectedColumn, 10);
    fitColumn(m_view, OnlineModel::ActivityColumn, 15);
    fitColumn(m_view, OnlineModel::InColumn, 8);
    fitColumn(m_view, OnlineModel::OutColumn, 8);
    m_view->horizontalHeader()->setSectionResizeMode(
        OnlineModel::PeersColumn, QHeaderView::Stretch);

    m_detailTitle = title(QString(), this);
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
    header->addWidget(m_search);

    auto *top = new QWidget(this);
    auto *topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    topLayout->addLayout(header);
    topLayout->addWidget(m_view);

    auto *bottom = new QWidget(this);
    auto *bottomLayout = new QVBoxLayout(bottom);
    bottomLayout->setContentsMargins(0, 4, 0, 0);
    bottomLayout->addWidget(m_detailTitle);
    bottomLayout->addWidget(m_detailView);

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
    updateDetails();
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

void OnlinePanel::updateCounts(int uids, int connections)
{
    const QLocale locale;
    m_counts->setText(
        tr("uids: %1 · connections: %2").arg(locale.toString(uids), locale.toString(connections)));
}

void OnlinePanel::updateDetails()
{
    const QStringList uids = selectedUids();
    const QByteArray uid = uids.size() == 1 ? uids.front().toUtf8() : QByteArray();
    m_connections->setUid(uid);
    if (uids.isEmpty())
        m_detailTitle->setText(tr("Connections: select a uid to see them"));
    else if (uids.size() > 1)
        m_detailTitle->setText(tr("Connections: %1 uids selected").arg(uids.size()));
    else
        m_detailTitle->setText(tr("Connections of %1").arg(uids.front()));
}
