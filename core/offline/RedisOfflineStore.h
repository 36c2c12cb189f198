#pragma once

#include "OfflineStore.h"

#include <QTimer>

class ClusterLink;

// The cluster's offline store: a Redis list per uid, its byte count, one
// index of all messages (for the total caps and the purge) and the total
// byte count, changed only by scripts so that every step is atomic. Reading
// removes nothing: a node reads a bounded batch and acknowledges (deletes)
// by sequence number once it handed the messages over. Storing announces
// the uid, and a node where it is bound reads again: nothing waits for the
// next bind because of a replica that was a moment late.
class RedisOfflineStore final : public OfflineStore
{
    Q_OBJECT
public:
    RedisOfflineStore(
        const Limits &limits, ClusterLink *link, Metrics *metrics, QObject *parent = nullptr);

    bool isAvailable() const override;
    bool mayHave(const QByteArray &) const override { return true; }
    void store(
        const QList<QByteArray> &uids, const QByteArray &payload, StoreHandler done) override;
    void fetch(const QByteArray &uid, qint64 after, qint64 maxBytes, FetchHandler handler) override;
    void acknowledge(const QByteArray &uid, qint64 upTo) override;
    QString description() const override { return QStringLiteral("redis"); }
    void purgeExpired();

    // Key names, for operators and tests.
    static QByteArray listKey(const QByteArray &uid);
    static QByteArray bytesKey(const QByteArray &uid);
    static QByteArray indexKey();
    static QByteArray totalBytesKey();

private:
    ClusterLink *m_link;
    QTimer m_purge;
};
