#pragma once

#include "Waiting.h"

#include <QAbstractSocket>

// What the kernel holds on both sides of a loopback connection to a server
// in this process: sync points for "the server has read what I sent" and
// "the server leaves what I sent unread", which no reply can show.
namespace TestSupport {

// Bytes that arrived at the server's side of this connected loopback
// socket and that the server has not read yet (from /proc/net/tcp);
// -1 when the connection is not found.
qint64 unreadByPeer(const QAbstractSocket &socket);

// Spins the event loop until everything written on socket has left it and
// the server has read it all. Writing a message in pieces with this in
// between hands the server each piece in a read of its own.
bool waitUntilReadByPeer(QAbstractSocket &socket, int timeoutMs = DefaultWaitMs);

// True when nothing the server wrote to this socket waits to be read:
// neither Qt's buffer nor the kernel's holds a byte. On loopback a byte the
// server wrote is in our kernel's buffer the moment its write() returned, so
// after a sync point this says "not answered" without waiting to see.
bool nothingArrived(QAbstractSocket &socket);

// Runs one pass of the event loop without blocking; true when it found
// nothing to do: no socket ready for a notifier that is enabled, no timer
// due, no event posted. With the server in this thread, a server that
// leaves bytes unread (unreadByPeer() > 0) in such a pass chose not to
// read them.
bool eventLoopIdle();

} // namespace TestSupport
