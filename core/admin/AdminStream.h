#pragma once

#include "Event.h"
#include "HttpResponder.h"
#include "StreamSocket.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QSet>
#include <QString>

#include <array>
#include <memory>
#include <optional>

class TlsStream;

// One attached console: a WebSocket (RFC 6455, server side) that only
// sends, on a socket taken over from the HTTP API after the 101. It frames
// and writes what the hub gives it, answers pings and the close handshake,
// closes with 1003 a console that sends data, and keeps what waits for the
// console (events, presence changes, skipped counts) until the hub's next
// tick. Everything it holds counts against --admin-max-output. Over https
// the TLS session of the HTTP connection goes on carrying the stream.
class AdminStream final : public QObject, private Transport::Handler
{
    Q_OBJECT
public:
    class Owner
    {
    public:
        // The output queue became empty: room for what waits.
        virtual void streamDrained(AdminStream *s) = 0;
        // Closed; the owner frees it (deleteLater).
        virtual void streamFinished(AdminStream *s, const QString &reason) = 0;

    protected:
        ~Owner() = default;
    };

    // Where the snapshot stands (docs/admin-stream.md, "Snapshot").
    enum class Phase : quint8 { Hello, Presence, Events, Counters, Ready, Live };
    enum class State : quint8 { Open, Closing, Closed };
    static constexpr int TypeCount = Event::TypeCount;

    // Takes the socket out of taken.
    AdminStream(
        TakenSocket &taken, const QString &peer, qint64 maxOutput, Owner *owner, QObject *parent);
    ~AdminStream() override;

    const QString &peer() const { return m_peer; }
    State state() const { return m_state; }
    bool isOpen() const { return m_state == State::Open; }
    void setMaxOutput(qint64 bytes);
    qint64 maxOutput() const { return m_maxOutput; }

    // The 101 (or anything else) as it is, before the first frame.
    void writeRaw(const QByteArray &bytes);
    // One text frame; false when it was not written (closing, or over the
    // socket's backstop, which drops the stream).
    bool sendText(const QByteArray &json);
    void sendPing();
    // Close handshake with code; the socket is reset after closeTimeoutMs
    // (checkLiveness) should the console not answer.
    void close(quint16 code, const QByteArray &reason);
    void abort(const QString &reason);

    // Real bytes waiting: the socket's queue and what waits here.
    qint64 outputBytes() const { return m_io->queuedMemory() + m_waitingBytes; }
    qint64 socketBytes() const { return m_io->queuedMemory(); }
    // Room for `bytes` more under the cap.
    bool hasRoom(qint64 bytes) const { return outputBytes() + bytes <= m_maxOutput; }

    // Pings, drops the silent and the closing that do not answer.
    void checkLiveness(qint64 now, qint64 pingIntervalMs, qint64 timeoutMs, qint64 closeTimeoutMs);

    // What the hub keeps per stream.
    Phase phase = Phase::Hello;
    QList<QByteArray> snapshotUids; // the presence being sent
    qsizetype snapshotIndex = 0;
    bool resync = false; // a fresh presence reset is owed (behind, or the view was rebuilt)
    bool eventsTaken = false; // the snapshot's events are queued: live events from here on

    // Presence changes, merged per uid; false when they no longer fit (the
    // stream is then behind and gets a reset once drained).
    bool markDirty(const QByteArray &uid);
    QList<QByteArray> takeDirty(qsizetype max);
    bool hasDirty() const { return !m_dirty.isEmpty(); }
    void clearDirty();

    // Events waiting for the next batch. The rate cap counts per second.
    bool rateAllows(qint64 now, int perSecond);
    void queueEvent(const QByteArray &json);
    bool hasEvents() const { return !m_events.isEmpty(); }
    QByteArray takeEventsMessage();
    void skip(int type, quint64 count = 1);
    bool hasSkipped() const { return m_skipped > 0; }
    quint64 skippedTotal() const { return m_skippedTotal; }
    QByteArray takeSkippedMessage(const char *(*typeName)(int));

    // What an entry costs while it waits: the list slot, the array header
    // and the allocator's own (as StreamSocket counts its blocks).
    static constexpr qint64 EntryOverhead = 48;

private:
    void socketReadable() override;
    void socketDrained() override;
    bool writeFrame(quint8 opcode, QByteArrayView payload);
    // After our close frame: no more output, the FIN once the queue drains.
    void beginClosing();
    void handleFrames();
    void finish(const QString &reason);

    // One of them; m_io is the one in use.
    std::optional<StreamSocket> m_plain;
    std::unique_ptr<TlsStream> m_tls;
    Transport *m_io = nullptr;
    Owner *m_owner;
    QString m_peer;
    QByteArray m_in; // a control frame not complete yet (at most 131 bytes)
    QSet<QByteArray> m_dirty;
    QList<QByteArray> m_events;
    qint64 m_waitingBytes = 0; // m_dirty and m_events
    qint64 m_maxOutput;
    qint64 m_lastActivity;
    qint64 m_lastPing;
    qint64 m_closingSince = 0;
    qint64 m_window = -1; // the second the rate counts in
    int m_windowCount = 0;
    quint64 m_skipped = 0; // since the last skipped message
    quint64 m_skippedTotal = 0;
    std::array<quint32, TypeCount> m_skippedByType = {};
    State m_state = State::Open;
    bool m_finished = false;
};
