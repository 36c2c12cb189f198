#pragma once

#include <QByteArray>
#include <QByteArrayView>

// RFC 6455 framing, server side: client frames are masked, ours are not.
namespace WsFrame {

enum Opcode : quint8 {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
};

enum CloseCode : quint16 {
    Normal = 1000,
    GoingAway = 1001,
    ProtocolError = 1002,
    UnsupportedData = 1003, // an admin stream got a data frame: it only sends
    InvalidPayload = 1007,
    PolicyViolation = 1008,
    TooBig = 1009,
    InternalError = 1011,
    UidLimit = 4001, // the per-uid cap closed the oldest connection
};

constexpr int MaxHeaderSize = 10; // server frames are never masked

// Writes the header of one unfragmented server frame; returns its size.
int encodeHeader(char *out, Opcode opcode, quint64 payloadLength);
QByteArray header(Opcode opcode, quint64 payloadLength);

struct Header
{
    bool fin = false;
    quint8 opcode = 0;
    quint64 length = 0;
    quint8 mask[4] = {};
    int size = 0; // bytes of the header itself
};

enum class ParseResult { Ok, NeedMore, ProtocolError, TooBig };

// Parses one client frame header from data. Validates what can be validated
// from the header alone: reserved bits, opcode, masking, control frame rules
// and maxFrame; `error` names the violation.
ParseResult parseHeader(QByteArrayView data, quint64 maxFrame, Header *header, const char **error);

// XORs data in place with the mask; `offset` is data's position in the payload.
void unmask(char *data, qint64 size, const quint8 mask[4], qint64 offset = 0);

QByteArray closePayload(quint16 code, QByteArrayView reason);
bool isValidCloseCode(quint16 code);
bool isControl(quint8 opcode);

} // namespace WsFrame
