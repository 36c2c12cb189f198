#pragma once

#include "PeerAddress.h"

#include <QByteArrayView>
#include <QHostAddress>
#include <QList>
#include <QPair>

// The client address a trusted reverse proxy reports in X-Forwarded-For.
// Every hop appends the address it received the request from, so only the
// right end of the list is written by proxies we trust; anything to the
// left of the first address that is not a trusted proxy was written by the
// client and may be forged.
namespace ForwardedFor {

using Subnets = QList<QPair<QHostAddress, int>>;

// Elements are "1.2.3.4", "1.2.3.4:5", "2001:db8::1", "[2001:db8::1]" or
// "[2001:db8::1]:5", separated by commas with optional spaces or tabs.
//
// Sets *client to the right-most address that is not in `trusted` (or the
// left-most one when every address is trusted) and returns true. Returns
// false with *error set (short English text) when an element it had to read
// on the way is not an address: the caller then keeps the proxy's address.
// Elements left of the answer are never looked at.
bool resolve(
    QByteArrayView header, const Subnets &trusted, PeerAddress *client, const char **error);

} // namespace ForwardedFor
