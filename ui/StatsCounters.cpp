#include "StatsCounters.h"

#include "GatewaySource.h"
#include "TimeText.h"

#include <QGridLayout>
#include <QLabel>
#include <QLocale>

namespace {
QLabel *label(const char *name, bool bold, QWidget *parent)
{
    auto *l = new QLabel(parent);
    l->setObjectName(QLatin1String(name));
    if (bold) {
        QFont f = l->font();
        f.setBold(true);
        l->setFont(f);
    } else {
        // Numbers grow; wrapping keeps them from widening the pane.
        l->setWordWrap(true);
    }
    return l;
}
} // namespace

StatsCounters::StatsCounters(GatewaySource *source, QWidget *parent)
    : QWidget(parent)
    , m_source(source)
{
    m_clusterTitle = label("statsClusterTitle", true, this);
    m_clusterTitle->setText(tr("Cluster"));
    m_cluster = label("statsCluster", false, this);
    m_cluster->setToolTip(tr("Pushes this node published to the nodes holding their uids, pushes "
                             "other nodes published to this one, and how often the link to "
                             "Redis was lost"));
    m_offlineTitle = label("statsOfflineTitle", true, this);
    m_offlineTitle->setText(tr("Offline delivery"));
    m_offline = label("statsOffline", false, this);

    auto *grid = new QGridLayout(this);
    grid->setContentsMargins(0, 4, 0, 0);
    grid->setHorizontalSpacing(10);
    grid->setVerticalSpacing(2);
    grid->addWidget(m_clusterTitle, 0, 0, Qt::AlignLeft | Qt::AlignTop);
    grid->addWidget(m_cluster, 0, 1);
    grid->addWidget(m_offlineTitle, 1, 0, Qt::AlignLeft | Qt::AlignTop);
    grid->addWidget(m_offline, 1, 1);
    grid->setColumnStretch(1, 1);
    connect(source, &GatewaySource::listeningChanged, this, &StatsCounters::refresh);
    connect(source, &GatewaySource::clusterChanged, this, &StatsCounters::refresh);
    connect(source, &GatewaySource::countersSampled, this, &StatsCounters::refresh);
    refresh();
}

void StatsCounters::refresh()
{
    const QLocale locale;
    const CounterSample m = m_source->counters();
    const bool cluster = m_source->cluster().enabled;
    m_clusterTitle->setVisible(cluster);
    m_cluster->setVisible(cluster);
    if (cluster) {
        m_cluster->setText(
            tr("published %1 · received %2 · link lost %3×")
                .arg(locale.toString(m.clusterSent), locale.toString(m.clusterReceived),
                    locale.toString(m.clusterLinkLosses)));
    }
    const OfflineState store = m_source->offline();
    m_offlineTitle->setVisible(store.enabled);
    m_offline->setVisible(store.enabled);
    if (store.enabled) {
        m_offline->setText(
            tr("stored %1 · delivered %2 · dropped %3 · expired %4")
                .arg(locale.toString(m.offlineStored), locale.toString(m.offlineDelivered),
                    locale.toString(m.offlineDropped), locale.toString(m.offlineExpired)));
        m_offline->setToolTip(
            tr("Pushes to uids online nowhere are kept for %1 (%2) and delivered when the uid "
               "binds; the oldest are dropped past the caps (%3 per uid, %4 in all).")
                .arg(TimeText::duration(store.ttlMs), store.description,
                    locale.toString(store.maxPerUid), locale.toString(store.maxTotal)));
    }
    setVisible(cluster || store.enabled);
}
