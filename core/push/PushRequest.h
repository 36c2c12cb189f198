#pragma once

#include <QByteArray>
#include <QVarLengthArray>

// A push line decoded: who it goes to. The line itself is forwarded untouched,
// so nothing else of the JSON is kept.
struct PushRequest
{
    static constexpr int MaxUids = 10000;

    bool broadcast = false;
    // Valid, de-duplicated, in the order given. Almost every push names one
    // uid: kept inline, no allocation.
    QVarLengthArray<QByteArray, 1> uids;
    QByteArray error; // non-empty when the line is malformed

    bool isValid() const { return error.isEmpty(); }

    // `line` is one request without its line ending.
    static PushRequest parse(const QByteArray &line);
};
