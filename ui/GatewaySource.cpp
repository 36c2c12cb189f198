#include "GatewaySource.h"

bool PresenceEntry::operator==(const PresenceEntry &o) const
{
    return uid == o.uid && connections == o.connections && peers == o.peers
        && connectedAt == o.connectedAt && lastActivity == o.lastActivity
        && messagesIn == o.messagesIn && messagesOut == o.messagesOut && otherNodes == o.otherNodes;
}

GatewaySource::GatewaySource(QObject *parent)
    : QObject(parent)
{
    qRegisterMetaType<PresenceEntry>();
    qRegisterMetaType<CounterSample>();
}

GatewaySource::~GatewaySource() = default;
