#include "ConsoleLogger.h"

#include "EventLog.h"

#include <QDateTime>

namespace {

void appendValue(QByteArray &line, QByteArrayView value)
{
    bool plain = !value.isEmpty();
    for (char c : value) {
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) {
            plain = false;
            break;
        }
    }
    if (plain) {
        line.append(value);
        return;
    }
    line.append('"');
    for (char c : value) {
        switch (c) {
        case '"':
            line.append("\\\"");
            break;
        case '\\':
            line.append("\\\\");
            break;
        case '\n':
            line.append("\\n");
            break;
        case '\r':
            line.append("\\r");
            break;
        case '\t':
            line.append("\\t");
            break;
        default:
            if (uchar(c) < 0x20 || c == 0x7f) {
                line.append("\\x");
                line.append(QByteArray::number(uchar(c), 16).rightJustified(2, '0'));
            } else {
                line.append(c);
            }
        }
    }
    line.append('"');
}

void field(QByteArray &line, const char *key, QByteArrayView value)
{
    line.append(' ');
    line.append(key);
    line.append('=');
    appendValue(line, value);
}

void field(QByteArray &line, const char *key, const QString &value)
{
    field(line, key, QByteArrayView(value.toUtf8()));
}

// The start of a payload for one log line, never a split UTF-8 sequence.
QByteArrayView excerpt(const QByteArray &text)
{
    return QByteArrayView(text).first(Event::utf8Prefix(text, 200));
}

void number(QByteArray &line, const char *key, qint64 value)
{
    field(line, key, QByteArrayView(QByteArray::number(value)));
}

} // namespace

ConsoleLogger::ConsoleLogger(EventLog *log, Event::Level level, FILE *out, QObject *parent)
    : QObject(parent)
    , m_out(out)
    , m_level(level)
{
    connect(log, &EventLog::eventAdded, this, &ConsoleLogger::write);
}

void ConsoleLogger::write(const Event &event)
{
    // Where the gateway listens is printed at any level: scripts read it.
    if (event.level < m_level && event.type != Event::Type::Listening)
        return;
    const QByteArray line = format(event);
    std::fwrite(line.constData(), 1, size_t(line.size()), m_out);
    std::fflush(m_out);
}

QByteArray ConsoleLogger::format(const Event &e)
{
    QByteArray line =
        QDateTime::fromMSecsSinceEpoch(e.time, Qt::UTC).toString(Qt::ISODateWithMs).toLatin1();
    line.append(' ');
    line.append(Event::levelName(e.level));
    line.append(' ');
    line.append(Event::typeName(e.type));
    const QString detail = e.englishDetail();
    switch (e.type) {
    case Event::Type::Listening:
    case Event::Type::Stopped:
    case Event::Type::Cluster:
    case Event::Type::Reloaded:
        line.append(' ');
        line.append(detail.toUtf8()); // already key=value
        break;
    case Event::Type::Push:
        field(line, "source", QByteArrayView(pushSourceName(e.source)));
        field(line, "result", QByteArrayView(pushStatusName(e.status)));
        if (e.status == PushStatus::Ok || e.dropped > 0)
            number(line, "delivered", e.delivered);
        if (e.dropped > 0)
            number(line, "dropped", e.dropped);
        if (!e.uid.isEmpty())
            field(line, "uid", QByteArrayView(e.uid));
        if (e.size >= 0)
            number(line, "size", e.size);
        if (!e.peer.isEmpty())
            field(line, "from", e.peer);
        if (!detail.isEmpty())
            field(line, "reason", detail);
        if (e.level == Event::Level::Debug && !e.text.isEmpty())
            field(line, "text", excerpt(e.text));
        break;
    default:
        if (e.connection)
            number(line, "conn", qint64(e.connection));
        if (!e.uid.isEmpty())
            field(line, "uid", QByteArrayView(e.uid));
        if (!e.peer.isEmpty())
            field(line, "peer", e.peer);
        if (e.closeCode)
            number(line, "code", e.closeCode);
        if (e.type == Event::Type::Closed && e.size >= 0)
            number(line, "seconds", e.size);
        else if (e.size >= 0)
            number(line, "size", e.size);
        if (e.type == Event::Type::Connected && !detail.isEmpty())
            field(line, "path", detail);
        else if (!detail.isEmpty())
            field(line, "reason", detail);
        if (e.discarded > 0)
            number(line, "discarded", e.discarded);
        if (!e.text.isEmpty())
            field(line, "text", excerpt(e.text));
        break;
    }
    line.append('\n');
    return line;
}
