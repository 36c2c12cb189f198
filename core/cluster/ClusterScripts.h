#pragma once

#include "PresenceReplica.h"

#include <QByteArray>
#include <QList>

struct RedisReply;

// What a node keeps in Redis, and the Lua scripts that change it, each in
// one step so that other nodes never read half of a change. Every key
// starts with "pushconsole:":
//   nodes             the set of registered node ids
//   node:ID           liveness, with the TTL; holds the process's token
//   node:ID:uids      the uids bound on the node
//   node:ID:ver       bumped by every change of the set, which it announces
//   node:ID:push      the channel of the node's pushes
//   node:ID:kick      the channel of kicks for the node's connections
//   presence, broadcast, offline   channels every node reads
// Each function returns the complete EVAL command; the reply readers take
// its answer apart.
namespace ClusterScripts {

QByteArray key(const QByteArray &suffix);
QByteArray nodeKey(const QByteArray &node, const char *suffix = nullptr);

// A uid came (online) or went on node: the set changes, the version goes
// up and the change is announced with it.
QList<QByteArray> change(
    const QByteArray &node, const QByteArray &uid, const QByteArray &channel, bool online);
// (Re)registers node with its complete uid set and announces "up".
QList<QByteArray> registerNode(const QByteArray &node, const QByteArray &token, qint64 ttlMs,
    const QByteArray &channel, const QList<QByteArray> &uids);
// The heartbeat: renews node's liveness while it is still its token's,
// reaps expired nodes (announcing "down"), lists the live ones.
QList<QByteArray> tick(
    const QByteArray &node, const QByteArray &token, qint64 ttlMs, const QByteArray &channel);
// The uid sets of all live nodes, or of one, with their versions.
QList<QByteArray> snapshot(const QByteArray &node = {});
// Graceful leave, when the liveness key is still this process's.
QList<QByteArray> leave(const QByteArray &node, const QByteArray &token, const QByteArray &channel);

// snapshot()'s answer.
QList<PresenceReplica::NodeSnapshot> snapshotReply(const RedisReply &reply);
struct TickReply
{
    bool renewed = false; // false: this node's liveness had expired, or is another's
    PresenceReplica::LiveNodes live;
};
// tick()'s answer.
TickReply tickReply(const RedisReply &reply);

} // namespace ClusterScripts
