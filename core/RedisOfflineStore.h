#pragma once

#include "OfflineStore.h"

#include <QTimer>

class ClusterLink;

// The cluster's offline store: a Redis list per uid plus one index of all
// messages for the total cap, changed only by scripts so that every step is
// atomic. Taking a uid's messages is one script, so a uid that binds on two
// nodes at once gets them once. Storing announces the uid, and a node where
// it has just bound takes again: nothing waits for the next bind because of
// a replica that was a moment late.
class RedisOfflineStore final : public OfflineStore
{
    Q_OBJECT
public:
    RedisOfflineStore(
        const Limits &limits, ClusterLink *link, Metrics *metrics, QObject *parent = nullptr);

    bool isAvailable() const override;
    void store(
        const QList<QByteArray> &uids, const QByteArray &payload, StoreHandler done) override;
    void take(const QByteArray &uid, TakeHandler handler) override;
    QString description() const override { return QStringLiteral("redis"); }
    void purgeExpired();

private:
    ClusterLink *m_link;
    QTimer m_purge;
};
